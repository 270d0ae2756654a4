"""Hypotheses declared up front: which metric should move, which way, tested how."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError

DIRECTIONS = ("greater", "less", "two-sided")
# The names crystallize_tui.stats accepts (a test checks they agree); not imported from
# there because importing scipy would slow every `import crystallize_tui`.
TEST_CHOICES = (
    "auto", "rank", "welch", "paired_t", "fisher", "boschloo", "mcnemar", "mann_whitney", "wilcoxon",
)


@dataclass(frozen=True)
class Hypothesis:
    """"Treatments change ``metric`` in ``direction`` relative to the baseline."

    ``direction``: "greater" (treatment > baseline), "less", or "two-sided" (differs).
    ``test``: "auto" picks by the data (see README); or a name from
    ``crystallize_tui.stats.TEST_CHOICES``. ``treatments``: which treatments it is about
    (all when empty).
    """

    metric: str
    direction: str = "two-sided"
    test: str = "auto"
    alpha: float = 0.05
    treatments: tuple[str, ...] = ()

    @property
    def phrase(self) -> str:
        """The direction as words: "greater", "less" or "differs" (never "two-sided")."""
        return "differs" if self.direction == "two-sided" else self.direction

    def describe(self) -> str:
        """One line for people: "accuracy greater than baseline in every treatment (test
        auto, alpha 0.05)"."""
        claim = "differs from baseline" if self.direction == "two-sided" else (
            f"{self.direction} than baseline")
        which = ", ".join(self.treatments) if self.treatments else "every treatment"
        return f"{self.metric} {claim} in {which} (test {self.test}, alpha {self.alpha:g})"

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise ConfigError(f"hypothesis: metric must be a metric name, got {self.metric!r}")
        if self.direction not in DIRECTIONS:
            raise ConfigError(
                f"hypothesis on {self.metric!r}: direction must be one of {', '.join(DIRECTIONS)}, "
                f"got {self.direction!r}"
            )
        if self.test not in TEST_CHOICES:
            raise ConfigError(
                f"hypothesis on {self.metric!r}: test must be one of {', '.join(TEST_CHOICES)}, "
                f"got {self.test!r}"
            )
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not 0 < self.alpha < 1:
            raise ConfigError(f"hypothesis on {self.metric!r}: alpha must be between 0 and 1, got {self.alpha!r}")
        object.__setattr__(self, "treatments", tuple(self.treatments))
