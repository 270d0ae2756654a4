"""Assembles a Comparison step by step for compare_samples, including degenerate answers."""

from __future__ import annotations

import warnings

from ._data import Floats, differences, is_constant, mean, sd
from .comparison import Comparison, verdict_for
from .results import TestResult


class Builder:
    """Collects the pieces of a Comparison while compare_samples works through the cases."""

    def __init__(self, alternative: str, alpha: float, confidence: float) -> None:
        self.alternative, self.alpha, self.confidence = alternative, alpha, confidence
        self.paired = False
        self.notes: list[str] = []
        self.fields: dict = {}
        self.counts = dict(
            n_baseline=0,
            n_treatment=0,
            n_pairs=None,
            n_missing_baseline=0,
            n_missing_treatment=0,
            n_pairs_dropped=0,
        )
        self.summary: dict = dict(
            mean_baseline=None,
            sd_baseline=None,
            mean_treatment=None,
            sd_treatment=None,
            difference=None,
        )

    def clean(self, base: list, treat: list) -> tuple[list[float], list[float]]:
        missing_a, missing_b = base.count(None), treat.count(None)
        if self.paired:
            pairs = [
                (x, y) for x, y in zip(base, treat, strict=True) if x is not None and y is not None
            ]
            xa, xb = Floats(x for x, _ in pairs), Floats(y for _, y in pairs)
            dropped = len(base) - len(pairs)
            self.counts.update(n_pairs=len(pairs), n_pairs_dropped=dropped)
            if dropped:
                self.notes.append(f"dropped {dropped} pair(s) with a missing value (None/NaN)")
        else:
            xa = Floats(x for x in base if x is not None)
            xb = Floats(y for y in treat if y is not None)
            if missing_a or missing_b:
                self.notes.append(
                    f"dropped missing values (None/NaN): {missing_a} baseline, {missing_b} treatment"
                )
        self.counts.update(
            n_baseline=len(xa),
            n_treatment=len(xb),
            n_missing_baseline=missing_a,
            n_missing_treatment=missing_b,
        )
        self.summary.update(
            mean_baseline=mean(xa), sd_baseline=sd(xa), mean_treatment=mean(xb), sd_treatment=sd(xb)
        )
        if xa and xb:
            self.summary["difference"] = mean(xb) - mean(xa)  # type: ignore[operator]
        return xa, xb

    def no_variance(self, chosen: str, xa: list[float], xb: list[float]) -> Comparison | str | None:
        """Answer directly when there is no spread for a t or rank test to work with.

        Returns a Comparison (the answer), the name of the test to run instead, or None.
        """
        if self.paired:
            d = differences(xa, xb)
            if not is_constant(d):
                return None
            if all(x == 0.0 for x in d):
                return self.certain_equal("every paired difference is zero: no difference")
            # The clearest effect there is: its signs still carry all the evidence.
            formula = "2 x 0.5^pairs" if self.alternative == "two-sided" else "0.5^pairs"
            self.notes.append(
                f"every paired difference is {d[0]:+.6g}: no spread for a t or rank "
                f"statistic, so the exact sign test decides (p = {formula})"
            )
            return "sign"
        if is_constant(xa + xb):
            return self.certain_equal("all values are identical on both sides: no difference")
        if chosen == "mann_whitney" or not (is_constant(xa) and is_constant(xb)):
            return None
        return self.inconclusive(
            "no variance",
            f"no variance: each side is constant, so the difference "
            f"{self.summary['difference']:.6g} is exact and no test applies",
        )

    def certain_equal(self, note: str) -> Comparison:
        self.notes.append(note)
        self.fields.update(
            test="none (identical values)", p_value=1.0, method="no test run: nothing varies"
        )
        return self.comparison()

    def inconclusive(self, reason: str, note: str) -> Comparison:
        self.notes.insert(0, note)
        self.fields["reason"] = reason
        return self.comparison()

    def run(
        self, func, xa: list[float], xb: list[float], fatal: bool = True, **kwargs
    ) -> TestResult | None:
        """Call a test, turning warnings into notes and (if fatal) errors into a verdict."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = func(
                    xa, xb, alternative=self.alternative, confidence=self.confidence, **kwargs
                )
            except Exception as exc:  # a results table must survive a library corner case
                if fatal:
                    self.inconclusive("test failed", f"{func.__name__} failed: {exc}")
                else:
                    self.notes.append(f"{func.__name__} failed: {exc}")
                return None
        for message in dict.fromkeys(str(w.message) for w in caught):
            self.notes.append(f"warning from {func.__name__}: {message}")
        return result

    def from_result(self, r: TestResult) -> Comparison:
        if r.note:
            self.notes.append(r.note)
        self.fields.update(
            test=r.test,
            ci_low=r.ci_low,
            ci_high=r.ci_high,
            effect_name=r.effect_name,
            effect=r.effect,
            other_effects=r.other_effects,
            statistic=r.statistic,
            df=r.df,
            p_value=r.p_value,
            method="; ".join(m for m in (r.method, self.fields.get("bootstrap_method")) if m)
            or None,
            ci_method=r.ci_method,
        )
        return self.comparison()

    def comparison(self) -> Comparison:
        f = self.fields
        p = f.get("p_value")
        return Comparison(
            test=f.get("test"),
            paired=self.paired,
            alternative=self.alternative,
            alpha=self.alpha,
            confidence=self.confidence,
            **self.counts,
            **self.summary,
            ci_low=f.get("ci_low"),
            ci_high=f.get("ci_high"),
            ci_method=f.get("ci_method"),
            effect_name=f.get("effect_name"),
            effect=f.get("effect"),
            other_effects=f.get("other_effects", ()),
            statistic=f.get("statistic"),
            df=f.get("df"),
            p_value=p,
            p_adjusted=p,
            correction="none",
            verdict=verdict_for(p, self.alpha, f.get("reason")),
            note="; ".join(self.notes) or None,
            method=f.get("method"),
            bootstrap_ci_low=f.get("bootstrap_ci_low"),
            bootstrap_ci_high=f.get("bootstrap_ci_high"),
        )
