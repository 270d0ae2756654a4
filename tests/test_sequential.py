"""Confidence sequences (stats/sequential.py): same numbers streaming and batch, the papers'
formulas recomputed independently, and validity under continuous monitoring by simulation."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import optimize, stats

from crystallize_tui.stats import DataError
from crystallize_tui.stats.sequential import (
    Interval,
    SequentialDifference,
    anytime_p_values,
    asymptotic_log_e,
    asymptotic_sequence,
    betting_log_e,
    betting_sequence,
    decide,
    e_bh,
    eb_log_e,
    eb_sequence,
    mixture_rho,
    paired_sequence,
    t_log_e,
    t_sequence,
)

ALPHA = 0.05


def batch(method: str, d: np.ndarray, alpha: float = ALPHA, **kw) -> tuple:
    if method == "betting":
        return betting_sequence(d, -1.0, 1.0, alpha), betting_log_e(d, -1.0, 1.0, alpha=ALPHA)
    if method == "bounded":
        return eb_sequence(d, -1.0, 1.0, alpha), eb_log_e(d, -1.0, 1.0, alpha=ALPHA)
    if method == "asymptotic":
        return asymptotic_sequence(d, alpha, **kw), asymptotic_log_e(d, alpha=ALPHA, **kw)
    return t_sequence(d, alpha), t_log_e(d, alpha=ALPHA)


def sample(method: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if method in ("bounded", "betting"):  # paired 0/1 metrics: differences in {-1, 0, 1}
        return (rng.random(n) < 0.6).astype(float) - (rng.random(n) < 0.4)
    return rng.normal(0.2, 1.0, n)


@pytest.mark.parametrize("method", ["bounded", "betting", "asymptotic", "t"])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_streaming_gives_the_batch_numbers_at_every_look(method, alpha):
    d = sample(method, 150, seed=3)
    kw = {"burn_in": 10} if method == "asymptotic" else {}
    (lower, upper), log_e = batch(method, d, alpha, **kw)
    p = anytime_p_values(log_e)
    low, high = (-1.0, 1.0) if method in ("bounded", "betting") else (None, None)
    updater = SequentialDifference(method, low, high, **kw)
    for i, x in enumerate(d):
        updater.update(x)
        got = updater.interval(alpha)
        assert (got.lower, got.upper) == pytest.approx((lower[i], upper[i]), rel=1e-12, abs=1e-12)
        assert updater.p_value() == pytest.approx(p[i], rel=1e-9, abs=1e-300)
        assert math.log(updater.e_value()) == pytest.approx(log_e[i], rel=1e-9, abs=1e-12)
    assert np.isfinite(upper[-1]) and upper[-1] - lower[-1] < 1.0


def test_update_pair_is_treatment_minus_baseline():
    a, b = SequentialDifference("t"), SequentialDifference("t")
    for base, treat in [(1.0, 3.0), (2.0, 2.5), (0.0, 1.0), (4.0, 4.5)]:
        a.update_pair(base, treat)
        b.update(treat - base)
    assert a.interval() == b.interval() and a.interval().lower < 2.0 < a.interval().upper


# --- the papers' formulas, computed again in plain Python (loops, math and statistics) ---


def eb_reference(d: list[float], low: float, high: float, alpha: float) -> list[tuple[float, float]]:
    """Waudby-Smith & Ramdas (2024) Theorem 2, PrPl-EB with c = 1/2, then the running
    intersection; written from the paper's definitions, one observation at a time."""
    ys = [(x - low) / (high - low) for x in d]
    out, lo_run, hi_run = [], 0.0, 1.0
    for t in range(1, len(ys) + 1):
        num = den = pen = 0.0
        for i in range(1, t + 1):
            prev = ys[: i - 1]
            mu_prev = (0.5 + sum(prev)) / i  # mu_{i-1} = (1/2 + sum_{j<i} y_j) / i
            mus = [(0.5 + sum(ys[:j])) / (j + 1) for j in range(1, i)]
            sigma2_prev = (0.25 + sum((ys[j - 1] - mus[j - 1]) ** 2 for j in range(1, i))) / i
            lam = min(math.sqrt(2 * math.log(2 / alpha) / (sigma2_prev * i * math.log(1 + i))), 0.5)
            psi = (-math.log(1 - lam) - lam) / 4
            num += lam * ys[i - 1]
            den += lam
            pen += 4 * (ys[i - 1] - mu_prev) ** 2 * psi
        centre, half = num / den, (math.log(2 / alpha) + pen) / den
        lo_run, hi_run = max(lo_run, centre - half), min(hi_run, centre + half)
        out.append((low + (high - low) * lo_run, low + (high - low) * hi_run))
    return out


def asymptotic_reference(d: list[float], alpha: float, t_star: float, t: int) -> tuple[float, float]:
    """Waudby-Smith et al. (2024) Theorem 2.2 at look t, rho tuned for t* as in the paper."""
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / t_star
    mean, sd = statistics.fmean(d[:t]), statistics.pstdev(d[:t])
    half = sd * math.sqrt(2 * (t * rho2 + 1) / (t * t * rho2) * math.log(math.sqrt(t * rho2 + 1) / alpha))
    return mean - half, mean + half


def lindon_bf(d: list[float], delta: float, phi: float) -> float:
    """Lindon, Ham, Tingley & Bojinov's Bayes factor for a one-sample mean: t statistic with
    nu = n - 1 degrees of freedom, r = phi / (phi + n)."""
    n = len(d)
    tstat = (statistics.fmean(d) - delta) / (statistics.stdev(d) / math.sqrt(n))
    nu, r = n - 1, phi / (phi + n)
    return math.sqrt(r) * ((1 + tstat**2 / nu) / (1 + r * tstat**2 / nu)) ** ((nu + 1) / 2)


def test_bounded_sequence_matches_theorem_2_recomputed():
    d = sample("bounded", 40, seed=11).tolist()
    lower, upper = eb_sequence(d, -1.0, 1.0, ALPHA)
    ref = eb_reference(d, -1.0, 1.0, ALPHA)
    assert list(zip(lower, upper, strict=True)) == [pytest.approx(r, abs=1e-12) for r in ref]
    # Pinned once from eb_reference (above) on a fixed 30-replicate input: 24 wins, 6 ties.
    wins = [1, 1, 0, 1, 1, 1, 0, 1, 1, 1] * 3
    assert eb_sequence(wins, -1.0, 1.0)[0][-1] == pytest.approx(0.2664338447646035, abs=1e-12)


def betting_reference(d: list[float], alpha: float, grid: int) -> list[tuple[float, float]]:
    """Waudby-Smith & Ramdas (2024) Theorem 3, hedged capital with c = 1/2 and the PrPl bets,
    on the grid m = k / grid of [0, 1], rounded outwards one step, intersected over time."""
    ys = [(x + 1) / 2 for x in d]
    ms = [k / grid for k in range(grid + 1)]
    kp, km = [1.0] * len(ms), [1.0] * len(ms)
    mu, sigma2, total, squares = 0.5, 0.25, 0.0, 0.0
    lo_run, hi_run, out = 0.0, 1.0, []
    for t, y in enumerate(ys, start=1):
        bet = math.sqrt(2 * math.log(2 / alpha) / (sigma2 * t * math.log(1 + t)))
        for j, m in enumerate(ms):
            kp[j] *= 1 + min(bet, 0.5 / m if m > 0 else math.inf) * (y - m)
            km[j] *= 1 - min(bet, 0.5 / (1 - m) if m < 1 else math.inf) * (y - m)
        total += y
        mu = (0.5 + total) / (t + 1)
        squares += (y - mu) ** 2
        sigma2 = (0.25 + squares) / (t + 1)
        inside = [j for j in range(len(ms)) if max(kp[j], km[j]) / 2 < 1 / alpha]
        if inside:
            lo_run = max(lo_run, ms[inside[0] - 1] if inside[0] > 0 else 0.0)
            hi_run = min(hi_run, ms[inside[-1] + 1] if inside[-1] < grid else 1.0)
        out.append((2 * lo_run - 1, 2 * hi_run - 1))
    return out


def test_betting_sequence_matches_theorem_3_recomputed_and_beats_eb_early():
    d = sample("betting", 40, seed=14).tolist()
    lower, upper = betting_sequence(d, -1.0, 1.0, ALPHA, grid=50)
    ref = betting_reference(d, ALPHA, 50)
    assert list(zip(lower, upper, strict=True)) == [pytest.approx(r, abs=1e-12) for r in ref]
    d = sample("betting", 300, seed=3)
    (b_lo, b_hi), (e_lo, e_hi) = betting_sequence(d), eb_sequence(d)
    for n in (20, 30, 50):
        assert b_hi[n - 1] - b_lo[n - 1] < 0.8 * (e_hi[n - 1] - e_lo[n - 1])


def test_asymptotic_sequence_matches_theorem_2_2_recomputed():
    d = sample("asymptotic", 120, seed=12).tolist()
    lower, upper = asymptotic_sequence(d, ALPHA, target_n=50, burn_in=2, skew_gate=0)
    for t in (2, 10, 50, 120):
        assert (lower[t - 1], upper[t - 1]) == pytest.approx(asymptotic_reference(d, ALPHA, 50, t), rel=1e-10)
    # Pinned once from asymptotic_reference (above) on a fixed input at t = t* = 30 ... 100.
    fixed = [0.5, -0.2, 1.3, 0.8, 0.1, 0.9, 1.1, 0.4, -0.3, 0.7] * 3
    assert asymptotic_sequence(fixed)[0][-1] == pytest.approx(0.23321926264123105, rel=1e-12)
    assert mixture_rho(50, ALPHA) ** 2 == pytest.approx(
        (-2 * math.log(ALPHA) + math.log(-2 * math.log(ALPHA) + 1)) / 50)


def test_t_sequence_bounds_are_where_the_bayes_factor_reaches_one_over_alpha():
    d = sample("t", 60, seed=13).tolist()
    lower, upper = t_sequence(d, ALPHA, target_n=40)
    phi = 1 / mixture_rho(40, ALPHA) ** 2
    # At 3 replicates even an infinite t statistic gives BF = r^(-nu/2) < 1/alpha: unbounded.
    assert math.isinf(upper[2]) and lindon_bf(d[:3], -1e9, phi) < 1 / ALPHA
    for t in (10, 20, 60):
        prefix, mean = d[:t], statistics.fmean(d[:t])
        def excess(delta: float, prefix=prefix) -> float:
            return math.log(lindon_bf(prefix, delta, phi)) + math.log(ALPHA)
        lo = optimize.brentq(excess, mean - 100, mean, xtol=1e-13)
        hi = optimize.brentq(excess, mean, mean + 100, xtol=1e-13)
        assert (lower[t - 1], upper[t - 1]) == pytest.approx((lo, hi), rel=1e-8)
        assert t_log_e(prefix, null=0.3, alpha=ALPHA, target_n=40)[-1] == pytest.approx(
            math.log(lindon_bf(prefix, 0.3, phi)), rel=1e-10)


def test_t_e_process_has_mean_one_under_normal_data():
    # A Bayes factor under its null is a martingale with mean 1: the check that the formula
    # (and its degrees of freedom) is right, independent of any sequence built on it.
    x = np.random.default_rng(5).normal(size=(200_000, 8))
    means = np.exp(t_log_e(x)).mean(axis=0)
    assert np.all(np.abs(means - 1.0) < 0.02), means


# --- shape ---


@pytest.mark.parametrize("method", ["bounded", "betting", "asymptotic", "t"])
def test_intervals_shrink_like_sqrt_log_n_over_n(method):
    d = sample(method, 6400, seed=21)
    (lower, upper), _ = batch(method, d)
    looks = [400, 800, 1600, 3200, 6400]
    scaled = [(upper[n - 1] - lower[n - 1]) / math.sqrt(math.log(n) / n) for n in looks]
    assert max(scaled) / min(scaled) < 1.6, scaled
    widths = [upper[n - 1] - lower[n - 1] for n in looks]
    assert all(b < a for a, b in zip(widths, widths[1:], strict=False)), widths


# --- validity under continuous monitoring (300 runs x 200 looks, fixed seed) ---

RUNS, LOOKS = 300, 200
LIMIT = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / RUNS)  # alpha + 3 standard errors


def null_differences(kind: str, rng: np.random.Generator) -> np.ndarray:
    shape = (RUNS, LOOKS)
    if kind == "normal":
        return rng.normal(size=shape) - rng.normal(size=shape)
    if kind == "t3":
        return rng.standard_t(3, size=shape) - rng.standard_t(3, size=shape)
    if kind == "binary":
        return (rng.random(shape) < 0.3).astype(float) - (rng.random(shape) < 0.3)
    if kind == "paired binary":  # the same replicate's outcome agrees 70% of the time
        base = rng.random(shape) < 0.3
        treat = np.where(rng.random(shape) < 0.7, base, rng.random(shape) < 0.3)
        return treat.astype(float) - base
    if kind == "lognormal":
        return rng.lognormal(0, 1, shape) - rng.lognormal(0, 1, shape)
    raise AssertionError(kind)


def ever_excludes(lower: np.ndarray, upper: np.ndarray, truth: float = 0.0) -> float:
    return float(np.mean(((lower > truth) | (upper < truth)).any(axis=1)))


def naive_repeated_t(d: np.ndarray) -> float:
    """The peeking negative control: a paired t-test after every replicate from the 2nd."""
    n = np.arange(1, d.shape[1] + 1)
    mean = np.cumsum(d, axis=1) / n
    var = (np.cumsum(d * d, axis=1) - n * mean * mean) / np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / np.sqrt(var / n)
    p = 2 * stats.t.sf(np.abs(t), np.maximum(n - 1, 1))
    return float(np.mean((np.nan_to_num(p[:, 1:], nan=1.0) < ALPHA).any(axis=1)))


@pytest.mark.parametrize("kind", ["normal", "t3", "binary", "paired binary", "lognormal"])
def test_monitored_after_every_replicate_the_null_is_rarely_rejected(kind):
    d = null_differences(kind, np.random.default_rng(2026))
    methods = {"asymptotic": asymptotic_sequence(d, ALPHA)}
    if kind in ("binary", "paired binary"):
        methods["bounded"] = eb_sequence(d, -1.0, 1.0, ALPHA)
        methods["betting"] = betting_sequence(d, -1.0, 1.0, ALPHA, grid=200)
    if kind == "normal":
        methods["t"] = t_sequence(d, ALPHA)
    for name, (lower, upper) in methods.items():
        assert ever_excludes(lower, upper) <= LIMIT, (kind, name)
    # The anytime p-values, read at the last look, are valid p-values too.
    log_es = {"asymptotic": asymptotic_log_e(d), "t": t_log_e(d)}
    if kind in ("binary", "paired binary"):
        log_es["bounded"] = eb_log_e(d)
        log_es["betting"] = betting_log_e(d)
    for name, log_e in log_es.items():
        assert np.mean(anytime_p_values(log_e)[:, -1] <= ALPHA) <= LIMIT, (kind, name)
    assert naive_repeated_t(d) > 0.25, kind  # the same runs, peeked at with a fixed-n test


def test_skewed_differences_are_not_decided_silently_wrong():
    # Centred lognormal differences (true mean 0, skewness 6.2): without the skewness gate the
    # asymptotic sequence misses the truth far more often than alpha; with the default it holds.
    rng = np.random.default_rng(7)
    d = rng.lognormal(0, 1, (RUNS, LOOKS)) - math.exp(0.5)
    assert ever_excludes(*asymptotic_sequence(d, ALPHA)) <= LIMIT
    assert ever_excludes(*asymptotic_sequence(d, ALPHA, skew_gate=0)) > 2 * LIMIT
    assert ever_excludes(*t_sequence(d, ALPHA)) > 2 * LIMIT  # the t sequence assumes normality
    gated = SequentialDifference("asymptotic")
    for x in d[0, :40]:
        gated.update(x)
    shown = gated.interval()
    if math.isinf(shown.upper):
        assert "skewed" in shown.note and decide(shown) == "undecided"


@pytest.mark.parametrize("method", ["bounded", "betting", "asymptotic", "t"])
def test_a_real_difference_is_decided_and_its_p_value_agrees(method):
    rng = np.random.default_rng(8)
    if method in ("bounded", "betting"):
        d = (rng.random((50, 300)) < 0.7).astype(float) - (rng.random((50, 300)) < 0.4)
    else:
        d = rng.normal(0.5, 1.0, (50, 300))
    (lower, upper), log_e = batch(method, d)
    assert np.mean(lower[:, -1] > 0) > 0.9  # decided "better" by 300 replicates in most runs
    decided_ever = (lower > 0).any(axis=1) | (upper < 0).any(axis=1)
    p_final = anytime_p_values(log_e)[:, -1]
    if method in ("asymptotic", "t"):  # exact duality for the mixtures; bounded: alpha-tuned bets
        assert np.array_equal(decided_ever, p_final <= ALPHA)
    assert np.all(p_final[decided_ever] <= ALPHA)


# --- decisions and bad input ---


def test_decide_reads_the_side_of_zero():
    assert decide((0.1, 0.4)) == "better"
    assert decide((-0.4, -0.1)) == "worse"
    assert decide((-0.1, 0.4)) == "undecided"
    assert decide(Interval(0.1, 0.4, 10, "t", 0.05), higher_is_better=False) == "worse"
    assert decide((-math.inf, math.inf)) == "undecided"


def test_burn_in_holds_decisions_and_says_so():
    updater = SequentialDifference("asymptotic", burn_in=30)
    for _ in range(10):
        updater.update(5.0)
        updater.update(5.1)
    shown = updater.interval()
    assert math.isinf(shown.width) and shown.note == "burn-in: 20 of 30 replicates"
    assert updater.decision() == "undecided" and updater.p_value() == 1.0


def test_bad_input_names_the_value_at_fault():
    with pytest.raises(DataError, match=r"difference 2\.0 at replicate 1 is outside the declared bounds \[-1\.0, 1\.0\]"):
        eb_sequence([0.5, 2.0], -1.0, 1.0)
    updater = SequentialDifference("bounded", -1.0, 1.0)
    updater.update(1.0)
    with pytest.raises(DataError, match=r"difference 1\.5 at replicate 1 is outside"):
        updater.update(1.5)
    assert updater.n == 1
    with pytest.raises(DataError, match="non-finite difference nan at replicate 2"):
        asymptotic_sequence([1.0, 2.0, float("nan")])
    with pytest.raises(DataError, match="unknown sequential method 'bayes'"):
        SequentialDifference("bayes")
    with pytest.raises(DataError, match="needs the metric's bounds"):
        SequentialDifference("bounded")
    with pytest.raises(DataError, match="alpha must be between 0 and 1, got 5"):
        t_sequence([1.0, 2.0], alpha=5)


def test_a_rare_event_not_yet_seen_is_no_zero_width_interval():
    # 40 replicates where a 0/1 metric tied every time: the spread is 0 so far, which says
    # nothing about a 1-in-100 event; a zero-width interval would meet any width target.
    ties = [0.0] * 40
    lower, upper = asymptotic_sequence(ties)
    assert math.isinf(upper[-1]) and asymptotic_log_e(ties)[-1] == 0.0
    updater = SequentialDifference("asymptotic")
    for x in ties:
        updater.update(x)
    assert updater.interval().note == "no spread yet: every difference so far is the same"
    assert updater.decision() == "undecided"
    assert math.isinf(t_sequence(ties)[1][-1]) and t_log_e(ties)[-1] == 0.0


def test_e_bh_rejects_the_largest_e_values_step_up():
    # K = 4: e_(1) = 100 >= 4 / 0.05 = 80; e_(2) = 30 < 4 / 0.1 = 40: only the first.
    assert e_bh([1.0, 100.0, 30.0, 0.5]) == [False, True, False, False]
    # K = 3: e_(1) = 50 < 60 but e_(2) = 45 >= 30: step-up rejects both of the top two.
    assert e_bh([45.0, 2.0, 50.0]) == [True, False, True]
    assert e_bh([10.0, 10.0]) == [False, False]
    with pytest.raises(DataError, match="e-values must be a list of non-negative numbers"):
        e_bh([1.0, -2.0])


def test_paired_sequence_picks_the_method_from_the_metric():
    wins = paired_sequence([0, 1, 0, 0, 1, 0], [1, 1, 1, 0, 1, 1])
    assert (wins.method, wins.low, wins.high) == ("bounded", -1.0, 1.0)
    assert "within [-1, 1]" in wins.assumes
    accuracy = paired_sequence([0.71, 0.69], [0.74, 0.70], bounds=(0.0, 1.0))
    assert (accuracy.method, accuracy.low, accuracy.high) == ("bounded", -1.0, 1.0)
    latency = paired_sequence([12.5, 13.0, None, 11.0], [11.0, 12.5, 10.0, 10.5])
    assert latency.method == "asymptotic" and latency.values == [-1.5, -0.5, -0.5]  # pair 2 dropped
    assert "no decision during burn-in" in latency.assumes
    # Differences rounded as the fixed-n paired tests round them: 0.3 - 0.1 counts as 0.2.
    base, treat = [0.1, 0.0, 0.5] * 5, [0.3, 0.5, 0.25] * 5
    shown = paired_sequence(base, treat, method="t")
    assert shown.values == [0.2, 0.5, -0.25] * 5
    fed = SequentialDifference("t")
    for d in [0.2, 0.5, -0.25] * 5:
        fed.update(d)
    assert shown.interval() == fed.interval() and math.isfinite(shown.interval().width)


def test_paired_sequence_refuses_values_outside_declared_bounds():
    with pytest.raises(DataError, match=r"value 1\.2 in treatment \(replicate 1\) is outside the "
                                        r"metric's declared bounds \[0\.0, 1\.0\]"):
        paired_sequence([0.5, 0.5], [0.6, 1.2], bounds=(0, 1))
    with pytest.raises(DataError, match="method 'betting' needs the metric's bounds"):
        paired_sequence([0.5, 2.5], [0.6, 1.2], method="betting")
    with pytest.raises(DataError, match="paired samples need equal lengths, got 2 and 1"):
        paired_sequence([0.5, 2.5], [0.6])


def test_e_bh_across_treatments_keeps_false_discoveries_rare():
    # 300 runs of 4 treatments against one baseline at the 200th look: 2 without effect, 2 with.
    rng = np.random.default_rng(31)
    effects = np.array([0.0, 0.0, 0.4, 0.6])
    d = rng.normal(size=(4, RUNS, LOOKS)) + effects[:, None, None]
    e_last = np.exp(np.stack([t_log_e(d[k])[:, -1] for k in range(4)], axis=1))
    rejected = np.array([e_bh(row) for row in e_last])
    false = rejected[:, :2].sum(axis=1)
    fdr = np.mean(false / np.maximum(rejected.sum(axis=1), 1))
    assert fdr <= LIMIT and rejected[:, 3].mean() > 0.8
