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
    decide,
    eb_log_e,
    eb_sequence,
    mixture_rho,
    t_log_e,
    t_sequence,
)

ALPHA = 0.05


def batch(method: str, d: np.ndarray, alpha: float = ALPHA, **kw) -> tuple:
    if method == "bounded":
        return eb_sequence(d, -1.0, 1.0, alpha), eb_log_e(d, -1.0, 1.0, alpha=ALPHA)
    if method == "asymptotic":
        return asymptotic_sequence(d, alpha, **kw), asymptotic_log_e(d, alpha=ALPHA, **kw)
    return t_sequence(d, alpha), t_log_e(d, alpha=ALPHA)


def sample(method: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if method == "bounded":  # paired 0/1 metrics: differences in {-1, 0, 1}
        return (rng.random(n) < 0.6).astype(float) - (rng.random(n) < 0.4)
    return rng.normal(0.2, 1.0, n)


@pytest.mark.parametrize("method", ["bounded", "asymptotic", "t"])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_streaming_gives_the_batch_numbers_at_every_look(method, alpha):
    d = sample(method, 150, seed=3)
    kw = {"burn_in": 10} if method == "asymptotic" else {}
    (lower, upper), log_e = batch(method, d, alpha, **kw)
    p = anytime_p_values(log_e)
    low, high = (-1.0, 1.0) if method == "bounded" else (None, None)
    updater = SequentialDifference(method, low, high, **kw)
    for i, x in enumerate(d):
        updater.update(x)
        got = updater.interval(alpha)
        assert (got.lower, got.upper) == pytest.approx((lower[i], upper[i]), rel=1e-12, abs=1e-12)
        assert updater.p_value() == pytest.approx(p[i], rel=1e-9, abs=1e-300)
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


@pytest.mark.parametrize("method", ["bounded", "asymptotic", "t"])
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
    if kind == "normal":
        methods["t"] = t_sequence(d, ALPHA)
    for name, (lower, upper) in methods.items():
        assert ever_excludes(lower, upper) <= LIMIT, (kind, name)
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


@pytest.mark.parametrize("method", ["bounded", "asymptotic", "t"])
def test_a_real_difference_is_decided_and_its_p_value_agrees(method):
    rng = np.random.default_rng(8)
    if method == "bounded":
        d = (rng.random((50, 300)) < 0.7).astype(float) - (rng.random((50, 300)) < 0.4)
    else:
        d = rng.normal(0.5, 1.0, (50, 300))
    (lower, upper), log_e = batch(method, d)
    assert np.mean(lower[:, -1] > 0) > 0.9  # decided "better" by 300 replicates in most runs
    decided_ever = (lower > 0).any(axis=1) | (upper < 0).any(axis=1)
    p_final = anytime_p_values(log_e)[:, -1]
    if method != "bounded":  # exact duality for the mixtures; EB's p uses its own alpha-tuned bets
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
