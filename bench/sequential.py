"""Validity and power of the confidence sequences (stats/sequential.py) under continuous monitoring.

Run: ``python bench/sequential.py`` (``--runs 300 --looks 200`` for a quick pass). For each
distribution of paired differences, RUNS simulated runs are watched after every replicate up
to LOOKS; a method "misses" a run if its interval ever excludes the true mean difference. The
target is a miss rate <= alpha + 3 standard errors; the naive paired t-test checked after every
replicate is the negative control on the same runs. Then, with a true difference, how often
and how early each method decides; last, the incremental updater's cost per look against a
floor measured in the same run. Then the family of rows (``family``, or ``--only family``):
three treatments against one baseline monitored after every replicate, decided with Bonferroni
and with Holm's step-down on the anytime p-values (family-wise error, under the global null and
with one true effect), and e-BH's false discovery rate with true effects among the rows, at a
look chosen by the data. Declared bounds (``--only bounds``): scores in [0, 100] monitored
after every replicate with the bounded (PrPl-EB) and betting sequences a declared metric uses,
against the asymptotic default, and the cost of one live row per round for each. Figures go to
bench/RESULTS.md ("Anytime-valid statistics").
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crystallize_tui.stats.betting import betting_run  # noqa: E402
from crystallize_tui.stats.family import (  # noqa: E402
    ebh_batch,
    grid_p_batch,
    holm_batch,
    holm_levels,
)
from crystallize_tui.stats.sequential import (  # noqa: E402
    SequentialDifference,
    anytime_p_values,
    asymptotic_log_e,
    asymptotic_sequence,
    betting_sequence,
    eb_sequence,
    t_sequence,
)

ALPHA = 0.05


def differences(kind: str, rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Paired differences (treatment minus baseline) and their true mean."""
    if kind == "normal":
        return rng.normal(size=shape) - rng.normal(size=shape), 0.0
    if kind == "t(3)":
        return rng.standard_t(3, size=shape) - rng.standard_t(3, size=shape), 0.0
    if kind == "0/1":
        return (rng.random(shape) < 0.3).astype(float) - (rng.random(shape) < 0.3), 0.0
    if kind == "paired 0/1":  # a replicate's two outcomes agree 70% of the time
        base = rng.random(shape) < 0.3
        treat = np.where(rng.random(shape) < 0.7, base, rng.random(shape) < 0.3)
        return treat.astype(float) - base, 0.0
    if kind.startswith("rare 0/1"):  # independent sides, baseline 1%, treatment 5%
        return (rng.random(shape) < 0.05).astype(float) - (rng.random(shape) < 0.01), 0.04
    if kind == "lognormal pair":  # iid lognormal(0, 1) sides: the difference is symmetric
        return rng.lognormal(0, 1, shape) - rng.lognormal(0, 1, shape), 0.0
    if kind.startswith("skewed"):  # the difference itself is a centred lognormal(0, sigma)
        sigma = float(kind.split("=")[1])
        return rng.lognormal(0, sigma, shape) - math.exp(sigma**2 / 2), 0.0
    raise ValueError(kind)


def methods(kind: str) -> dict:
    out = {
        "asymptotic (default: burn-in 30, skew gate 50)": lambda d: asymptotic_sequence(d, ALPHA),
        "asymptotic, burn-in 30, no skew gate": lambda d: asymptotic_sequence(d, ALPHA, skew_gate=0),
        "asymptotic, no burn-in, no skew gate": lambda d: asymptotic_sequence(d, ALPHA, burn_in=2,
                                                                              skew_gate=0),
        "asymptotic, burn-in 100, no skew gate": lambda d: asymptotic_sequence(d, ALPHA, burn_in=100,
                                                                               skew_gate=0),
        "asymptotic, skew gate 25": lambda d: asymptotic_sequence(d, ALPHA, skew_gate=25),
        "asymptotic, skew gate 100": lambda d: asymptotic_sequence(d, ALPHA, skew_gate=100),
        "t sequence (Lindon et al.)": lambda d: t_sequence(d, ALPHA),
    }
    if "0/1" in kind:
        out["bounded PrPl-EB [-1, 1]"] = lambda d: eb_sequence(d, -1.0, 1.0, ALPHA)
        out["betting, hedged capital [-1, 1], grid 200"] = lambda d: betting_sequence(
            d, -1.0, 1.0, ALPHA, grid=200)
    return out


def naive_repeated_t(d: np.ndarray, truth: float) -> np.ndarray:
    n = np.arange(1, d.shape[1] + 1)
    mean = np.cumsum(d, axis=1) / n
    var = (np.cumsum(d * d, axis=1) - n * mean * mean) / np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (mean - truth) / np.sqrt(var / n)
    p = np.nan_to_num(2 * stats.t.sf(np.abs(t), np.maximum(n - 1, 1)), nan=1.0)
    return (p[:, 1:] < ALPHA).any(axis=1)


def validity(runs: int, looks: int, seed: int) -> None:
    se = math.sqrt(ALPHA * (1 - ALPHA) / runs)
    print(f"Null / coverage: {runs} runs x {looks} looks, alpha {ALPHA}, limit alpha + 3 SE = "
          f"{ALPHA + 3 * se:.3f}; 'ever missed' = share of runs whose interval ever excluded the truth")
    kinds = ["normal", "t(3)", "0/1", "paired 0/1", "rare 0/1: 5% vs 1%", "lognormal pair",
             "skewed sigma=1", "skewed sigma=1.5", "skewed sigma=2"]
    for kind in kinds:
        rng = np.random.default_rng(seed)
        d, truth = differences(kind, rng, (runs, looks))
        print(f"\n{kind}:")
        for name, fn in methods(kind).items():
            lower, upper = fn(d)
            miss = np.mean(((lower > truth) | (upper < truth)).any(axis=1))
            opened = np.mean(np.isfinite(upper[:, -1]))
            flag = "" if miss <= ALPHA + 3 * se else "   <-- INVALID"
            print(f"  {name:48s} ever missed {miss:.3f}  bounded at the end {opened:.2f}{flag}")
        print(f"  {'naive paired t-test after every replicate':48s} ever missed "
              f"{np.mean(naive_repeated_t(d, truth)):.3f}")


def power(runs: int, looks: int, seed: int) -> None:
    print(f"\nPower: {runs} runs x {looks} looks with a true difference; decided = interval excluded 0 "
          "on the right side by the last look; median first decisive look among those decided")
    cases = {
        "normal, mean 0.3, sd 1": lambda rng: rng.normal(0.3, 1.0, (runs, looks)),
        "0/1, 0.5 vs 0.3": lambda rng: (rng.random((runs, looks)) < 0.5).astype(float)
        - (rng.random((runs, looks)) < 0.3),
        "skewed sigma=1 + 0.5": lambda rng: rng.lognormal(0, 1, (runs, looks)) - math.exp(0.5) + 0.5,
    }
    for case, make in cases.items():
        d = make(np.random.default_rng(seed))
        print(f"\n{case}:")
        named = {
            "asymptotic (default)": asymptotic_sequence(d, ALPHA),
            "asymptotic, no skew gate": asymptotic_sequence(d, ALPHA, skew_gate=0),
            "t sequence": t_sequence(d, ALPHA),
        }
        if case.startswith("0/1"):
            named["bounded PrPl-EB [-1, 1]"] = eb_sequence(d, -1.0, 1.0, ALPHA)
            named["betting, grid 200"] = betting_sequence(d, -1.0, 1.0, ALPHA, grid=200)
        for name, (lower, _) in named.items():
            hit = lower > 0
            decided = hit.any(axis=1)
            first = np.argmax(hit, axis=1)[decided] + 1
            median = f"{int(np.median(first))}" if decided.any() else "-"
            print(f"  {name:28s} decided {decided.mean():.2f}  median first look {median}")


def speed(updates: int = 10_000, repeat: int = 3) -> None:
    """Cost of one look of the incremental updater (update + interval + p-value), against a
    floor measured in the same run: a bare Python loop keeping a running mean and variance."""
    xs = np.random.default_rng(1).integers(-1, 2, updates).astype(float).tolist()

    def floor() -> None:
        n, mean, m2 = 0, 0.0, 0.0
        for x in xs:
            n += 1
            delta = x - mean
            mean += delta / n
            m2 += delta * (x - mean)

    def look(method: str) -> None:
        bounds = (-1.0, 1.0) if method in ("bounded", "betting") else (None, None)
        updater = SequentialDifference(method, *bounds)
        for x in xs:
            updater.update(x)
            updater.interval()
            updater.p_value()

    def best(fn) -> float:  # noqa: ANN001
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times) / updates * 1e6

    base = best(floor)
    print(f"\nSpeed: one look (update + interval + p_value), best of {repeat} x {updates:,}; "
          f"floor (running mean/variance in a bare loop) {base:.2f} us")
    for method in ("bounded", "betting", "asymptotic", "t"):
        cost = best(lambda m=method: look(m))
        print(f"  {method:10s} {cost:6.1f} us per look = {cost / base:5.0f}x the floor")


def family_rows(effects: list[float], runs: int, looks: int, rng: np.random.Generator) -> np.ndarray:
    """Paired differences of len(effects) treatments against one shared baseline (rows on axis
    0): sharing the baseline correlates the rows (+0.5), as in a real run."""
    base = rng.normal(size=(runs, looks))
    return np.stack([rng.normal(e, 1.0, (runs, looks)) - base for e in effects])


def holm_rejections(d: np.ndarray, correction: str) -> np.ndarray:
    """Rejections after every look (rows, runs, looks), as watch/live_stats.py decides them:
    the anytime p-values of e-processes tuned for alpha / m, Holm or Bonferroni across rows."""
    m = d.shape[0]
    p = anytime_p_values(asymptotic_log_e(d, alpha=ALPHA / m))
    if correction == "holm":
        return holm_batch(grid_p_batch(p, holm_levels(m, ALPHA)), ALPHA)
    return p <= ALPHA / m


def family(runs: int, looks: int, seed: int) -> None:
    se = math.sqrt(ALPHA * (1 - ALPHA) / runs)
    print(f"\nFamily of 3 treatments x 1 metric, {runs} runs x {looks} looks, limit alpha + 3 SE = "
          f"{ALPHA + 3 * se:.3f}; family-wise error = share of runs where a true-null row was ever decided")
    for label, effects in (("global null (0, 0, 0)", [0.0, 0.0, 0.0]),
                           ("one effect (0.3, 0, 0)", [0.3, 0.0, 0.0]),
                           ("two effects (0.3, 0.2, 0)", [0.3, 0.2, 0.0])):
        d = family_rows(effects, runs, looks, np.random.default_rng(seed))
        null = np.array([e == 0 for e in effects])
        print(f"\n{label}:")
        for name in ("bonferroni", "holm"):
            rej = holm_rejections(d, name)
            fwer = rej[null].any(axis=(0, 2)).mean()
            line = f"  {name:10s} family-wise error {fwer:.3f}"
            if (~null).any():
                hit = rej[~null]
                share = hit[..., -1].mean()
                first = np.where(hit.any(axis=-1), np.argmax(hit, axis=-1) + 1, looks + 1)
                line += (f"   effects decided by {looks}: {share:.3f}, mean first look "
                         f"{first.mean():.0f}")
            print(line + ("" if fwer <= ALPHA + 3 * se else "   <-- INVALID"))
        unc = [asymptotic_sequence(d[i], ALPHA) for i in range(len(effects))]
        naive = np.stack([(lo > 0) | (hi < 0) for lo, hi in unc])
        print(f"  {'none (each row at alpha)':10s} family-wise error {naive[null].any(axis=(0, 2)).mean():.3f}"
              "   (negative control)")
    # e-BH: six rows, three true effects; the run stops at the first look where e-BH decides
    # three rows (else at the cap): the false discovery proportion there, averaged.
    effects = [0.4, 0.3, 0.25, 0.0, 0.0, 0.0]
    m = len(effects)
    d = family_rows(effects, runs, looks, np.random.default_rng(seed + 1))
    log_e = np.stack([asymptotic_log_e(d[i], alpha=ALPHA / m) for i in range(m)])
    rej = ebh_batch(np.exp(np.minimum(log_e, 700.0)), ALPHA)
    null = np.array([e == 0 for e in effects])
    enough = rej.sum(axis=0) >= 3
    stop = np.where(enough.any(axis=-1), np.argmax(enough, axis=-1), looks - 1)
    at = np.take_along_axis(rej, stop[None, :, None].repeat(m, axis=0), axis=-1)[..., 0]
    fdp = at[null].sum(axis=0) / np.maximum(at.sum(axis=0), 1)
    fdp_end = rej[null][..., -1].sum(axis=0) / np.maximum(rej[..., -1].sum(axis=0), 1)
    fdr_se = fdp.std() / math.sqrt(runs)
    print(f"\ne-BH, effects {effects}, {runs} runs: stopped at the first look deciding 3 rows "
          f"(mean look {stop.mean() + 1:.0f}): FDR {fdp.mean():.3f} (SE {fdr_se:.3f}); at look {looks}: "
          f"FDR {fdp_end.mean():.3f}; true effects decided at the stop {at[~null].mean():.3f}")


def declared(runs: int, looks: int, seed: int) -> None:
    """Scores uniform in [0, 100] (baseline) and [0, 100] or [20, 100] (treatment: true
    difference 0 or 10), the metric declared in [0, 100]: the rows' difference in [-100, 100]."""
    se = math.sqrt(ALPHA * (1 - ALPHA) / runs)
    print(f"\nDeclared bounds [0, 100], {runs} runs x {looks} looks, limit alpha + 3 SE = "
          f"{ALPHA + 3 * se:.3f}")
    checkpoints = [n for n in (50, 200, 500) if n <= looks]
    for label, floor, truth in (("null (difference 0)", 0.0, 0.0), ("difference 10", 20.0, 10.0)):
        rng = np.random.default_rng(seed)
        d = rng.uniform(floor, 100, (runs, looks)) - rng.uniform(0, 100, (runs, looks))
        named: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        began = time.perf_counter()
        named["bounded (PrPl-EB)"] = eb_sequence(d, -100.0, 100.0, ALPHA)
        cost = {"bounded (PrPl-EB)": time.perf_counter() - began}
        for grid in (200, 1000):
            began = time.perf_counter()
            lo, hi, _ = betting_run((d + 100.0) / 200.0, ALPHA, 0.5, grid=grid)
            named[f"betting, grid {grid}"] = (200.0 * lo - 100.0, 200.0 * hi - 100.0)
            cost[f"betting, grid {grid}"] = time.perf_counter() - began
        began = time.perf_counter()
        named["asymptotic (default)"] = asymptotic_sequence(d, ALPHA)
        cost["asymptotic (default)"] = time.perf_counter() - began
        print(f"\n{label}:")
        for name, (lo, hi) in named.items():
            miss = ((lo > truth) | (hi < truth)).any(axis=1).mean()
            widths = ", ".join(f"n={n}: {np.median(hi[:, n - 1] - lo[:, n - 1]):.1f}" for n in checkpoints)
            line = f"  {name:22s} miss {miss:.3f}{'  <-- INVALID' if miss > ALPHA + 3 * se else ''}"
            line += f"   median width {widths}"
            if truth != 0:
                decided = (lo > 0).any(axis=1)
                first = np.where(decided, np.argmax(lo > 0, axis=1) + 1, looks + 1)
                line += f"   decided {decided.mean():.3f}, median first look {np.median(first):.0f}"
            print(line + f"   ({cost[name]:.1f} s for all runs)")
    # One live row (watch/live_stats.AnytimeStatistics) per round: add both sides, read rows().
    from crystallize_tui.watch.live_stats import AnytimeStatistics

    rng = np.random.default_rng(seed)
    base, treat = rng.uniform(0, 100, looks).tolist(), rng.uniform(20, 100, looks).tolist()
    print(f"\nOne live row per round (add both sides + rows()), {looks} rounds:")
    for name, bounds in (("bounded", {"score": (0.0, 100.0)}),
                         ("betting", {"score": (0.0, 100.0, "betting")}), ("asymptotic", None)):
        stats = AnytimeStatistics(["baseline", "up"], bounds=bounds)
        began = time.perf_counter()
        for i in range(looks):
            stats.add("baseline", i, {"score": base[i]})
            stats.add("up", i, {"score": treat[i]})
            stats.rows()
        per = (time.perf_counter() - began) / looks * 1e6
        print(f"  {name:10s} {per:7.0f} us per round")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--looks", type=int, default=500)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--only", choices=("family", "bounds"), help="run only this part")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.only is None:
        validity(args.runs, args.looks, args.seed)
        power(args.runs // 4, args.looks, args.seed)
        speed()
    if args.only in (None, "bounds"):
        declared(args.runs, args.looks, args.seed)
    if args.only in (None, "family"):
        family(args.runs, args.looks, args.seed)
    print(f"\n({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
