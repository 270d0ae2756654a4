"""compare_samples: the one call the engine makes per (treatment, metric) pair."""

from __future__ import annotations

from collections.abc import Sequence

from ._builder import Builder
from ._data import DataError, first_non_binary, is_binary, read_side
from .attainable import smallest_p
from .binary import boschloo, fisher_exact, mcnemar_exact
from .bootstrap import bootstrap_ci
from .comparison import Comparison
from .parametric import paired_t, welch_t
from .rank import mann_whitney, sign_test, wilcoxon_signed_rank
from .results import TestResult, check_options

TESTS = {
    "welch": (welch_t, False),
    "paired_t": (paired_t, True),
    "fisher": (fisher_exact, False),
    "boschloo": (boschloo, False),
    "mcnemar": (mcnemar_exact, True),
    "mann_whitney": (mann_whitney, False),
    "wilcoxon": (wilcoxon_signed_rank, True),
}
TEST_CHOICES = ("auto", "rank", *TESTS)
# Not offered by name: used when every paired difference is the same non-zero value.
FALLBACKS = {"sign": sign_test}
# At or below this many values per side the BCa interval under-covers (Carpenter &
# Bithell 2000, Stat Med 19:1141). Simulated here, normal data, 300 runs each: 86% at
# n = 5, 91% at n = 8, 93% at n = 10 for a nominal 95%; skewed data do worse.
BCA_RELIABLE_N = 10
BINARY_ONLY = {
    "fisher": "Fisher's exact test",
    "boschloo": "Boschloo's exact test",
    "mcnemar": "the exact McNemar test",
}


def _choose(test: str, paired: bool, binary: bool) -> str:
    if test == "auto":
        if binary:
            return "mcnemar" if paired else "fisher"
        return "paired_t" if paired else "welch"
    if test == "rank":
        return "wilcoxon" if paired else "mann_whitney"
    return test


def _resolve_pairing(test: str, paired: bool | None) -> bool:
    if test in TESTS:
        implied = TESTS[test][1]
        if paired is not None and paired != implied:
            kind = "paired" if implied else "unpaired"
            raise ValueError(f"test {test!r} is {kind} but paired={paired!r} was given")
        return implied
    # Pairing is a claim about how the data were made (the same seed, the same user),
    # not something equal lengths can show: two sorted independent lists paired by
    # position reject a true null about half the time. So it must be asked for.
    return bool(paired)


def _check_arguments(test: str, alternative: str, alpha: float, confidence: float) -> None:
    if test not in TEST_CHOICES:
        raise ValueError(f"test must be one of {TEST_CHOICES}, got {test!r}")
    check_options(alternative, confidence)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")


def compare_samples(
    baseline: Sequence[float | None],
    treatment: Sequence[float | None],
    *,
    paired: bool | None = None,
    test: str = "auto",
    alternative: str = "two-sided",
    alpha: float = 0.05,
    confidence: float = 0.95,
    bootstrap: bool = False,
    seed: int = 0,
) -> Comparison:
    """Compare a treatment's replicate values with the baseline's, one metric.

    Differences are treatment minus baseline; ``alternative="greater"`` asks
    whether the treatment is larger. None (or NaN) marks a failed replicate.
    ``paired=True`` pairs ``baseline[k]`` with ``treatment[k]`` (replicate k ran with
    the same seed in both conditions); the default is unpaired unless ``test`` names
    a paired test. Pairing drops every pair with a missing side, while unpaired
    comparisons drop missing values per side. ``test="auto"`` uses
    Fisher's exact test (unpaired) or the exact McNemar test (paired) when all
    values are 0/1, else Welch's or the paired t-test; ``"rank"`` picks
    Mann-Whitney or Wilcoxon signed-rank; explicit names are in TEST_CHOICES.
    ``bootstrap=True`` adds a seeded BCa bootstrap CI of the mean difference.

    Degenerate data never raises: the result carries p_value None, a verdict
    "inconclusive (reason)" and a note. The one exception is data with nothing
    varying and no difference (all values identical): p_value 1 and a note. Invalid options (unknown test name,
    alpha outside (0, 1), a paired test with paired=False) do raise ValueError.
    """
    _check_arguments(test, alternative, alpha, confidence)
    out = Builder(alternative, alpha, confidence)
    try:
        base, treat = read_side(baseline, "baseline"), read_side(treatment, "treatment")
    except DataError as exc:
        return out.inconclusive(exc.reason, str(exc))
    is_paired = _resolve_pairing(test, paired)
    out.paired = is_paired
    if is_paired and len(base) != len(treat):
        return out.inconclusive(
            "lengths differ",
            f"a paired comparison needs one value per replicate on both sides; "
            f"got {len(base)} baseline and {len(treat)} treatment values",
        )
    xa, xb = out.clean(base, treat)
    if not xa or not xb:
        empty = _empty_sides(base, treat)
        if empty:
            return out.inconclusive("no data", empty)
    if len(xa) < 2 or len(xb) < 2:
        what = (
            f"{len(xa)} complete pair(s)"
            if is_paired
            else f"{len(xa)} baseline and {len(xb)} treatment value(s)"
        )
        return out.inconclusive("n < 2", f"need at least 2 values per side; got {what}")
    chosen = _choose(test, is_paired, is_binary(xa) and is_binary(xb))
    if chosen in BINARY_ONLY:
        for side, xs in (("baseline", xa), ("treatment", xb)):
            bad = first_non_binary(xs)
            if bad is not None:
                return out.inconclusive(
                    "not binary", f"{BINARY_ONLY[chosen]} needs 0/1 values; {side} has {bad!r}"
                )
    else:
        degenerate = out.no_variance(chosen, xa, xb)
        if isinstance(degenerate, Comparison):
            return degenerate
        chosen = degenerate or chosen
    func = TESTS[chosen][0] if chosen in TESTS else FALLBACKS[chosen]
    result = out.run(func, xa, xb)
    if result is None:
        return out.comparison()
    disagreement = _interval_disagrees(result, alpha, confidence)
    if disagreement:
        out.notes.append(disagreement)
    limit = smallest_p(chosen, xa, xb, alternative)
    if limit is not None and limit[0] > alpha:
        out.notes.append(
            f"with {limit[1]} the {result.test} cannot give p below {limit[0]:.4g} > alpha "
            f"{alpha:g}, so it cannot be significant: more replicates needed"
        )
    if bootstrap:
        boot = out.run(bootstrap_ci, xa, xb, fatal=False, paired=is_paired, seed=seed)
        if boot is not None:
            out.fields.update(
                bootstrap_ci_low=boot.ci_low,
                bootstrap_ci_high=boot.ci_high,
                bootstrap_method=f"bootstrap {boot.method}",
            )
            if min(len(xa), len(xb)) <= BCA_RELIABLE_N:
                out.notes.append(
                    f"bootstrap interval from {min(len(xa), len(xb))} values per side: at n <= "
                    f"{BCA_RELIABLE_N} a 95% BCa interval under-covers (86-93% in simulation); "
                    "trust the test"
                )
    return out.from_result(result)


def _interval_disagrees(r: TestResult, alpha: float, confidence: float) -> str | None:
    """Say so when the interval and the test point different ways (e.g. the approximate
    Newcombe interval excludes 0 while the exact McNemar p is above alpha)."""
    if r.p_value is None or r.ci_low is None or r.ci_high is None:
        return None
    if abs(confidence - (1.0 - alpha)) > 1e-9:  # different levels may rightly differ
        return None
    excludes = r.ci_low > 0.0 or r.ci_high < 0.0
    significant = r.p_value <= alpha
    if excludes == significant:
        return None
    agree = " (the exact OR interval agrees with it)" if r.test == "exact McNemar test" else ""
    return (
        f"the {r.ci_method} interval {'excludes' if excludes else 'includes'} 0 but p = "
        f"{r.p_value:.4g} {'>' if excludes else '<='} alpha: approximate interval vs exact "
        f"test; the verdict follows the test{agree}"
    )


def _empty_sides(base: list, treat: list) -> str | None:
    """Why nothing can be compared, naming the side(s) with no values at all; None if
    both sides have values (then it was pairing that left too few)."""
    has_base = any(v is not None for v in base)
    has_treat = any(v is not None for v in treat)
    if has_base and has_treat:
        return None
    if not has_base and not has_treat:
        return "no values on either side (metric not recorded, or every replicate failed)"
    side = "treatment" if has_base else "baseline"
    return f"no values in the {side} (metric not recorded there, or every replicate failed)"
