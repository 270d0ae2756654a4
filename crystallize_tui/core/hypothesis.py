"""Hypotheses declared up front: which metric should move, which way, tested how."""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

DIRECTIONS = ("greater", "less", "two-sided")
ANYTIME_METHODS = ("bounded", "betting")  # the sequences a metric with declared bounds may use
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
    ``crystallize_tui.stats.TEST_CHOICES``; or your own function of the two samples
    (baseline, treatment as numpy arrays paired by replicate) returning a p-value, or a
    mapping/tuple with the p-value and optionally an effect and an interval (README "Your
    own test"). It is kept as "module:qualname", so a stored run names it and reloads it.
    ``treatments``: which treatments it is about (all when empty).
    ``bounds``: (low, high) every value of the metric lies in, when known (a score out of
    100, an accuracy): the anytime-valid rows then use the bounded sequence, exact at every
    n, for the difference in [low - high, high - low] (README "Honest answers while a run goes").
    ``anytime``: with ``bounds``, "bounded" (default: the empirical-Bernstein sequence) or
    "betting" (the betting sequence: tighter, at O(1,000) work per replicate and row).
    """

    metric: str
    direction: str = "two-sided"
    test: Any = "auto"
    alpha: float = 0.05
    treatments: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None
    anytime: str | None = None

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
        bounds = (f", bounds [{self.bounds[0]:g}, {self.bounds[1]:g}]"
                  f"{'' if self.anytime in (None, 'bounded') else ' ' + self.anytime}"
                  if self.bounds is not None else "")
        return f"{self.metric} {claim} in {which} (test {self.test_name}, alpha {self.alpha:g}{bounds})"

    @property
    def custom(self) -> bool:
        """True when the test is the user's own function."""
        return is_custom_test(self.test)

    @property
    def test_name(self) -> str:
        """The test as tables name it: a built-in test's name, or the function's name."""
        return name_of_test(self.test)

    @property
    def test_spec(self) -> Any:
        """What the statistics dispatch takes: a built-in test's name, the function itself
        (in the process that declared it), or its "module:qualname" (from a stored run)."""
        return self.__dict__.get("_function") or self.test

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise ConfigError(f"hypothesis: metric must be a metric name, got {self.metric!r}")
        if self.direction not in DIRECTIONS:
            raise ConfigError(
                f"hypothesis on {self.metric!r}: direction must be one of {', '.join(DIRECTIONS)}, "
                f"got {self.direction!r}"
            )
        if callable(self.test):
            # Kept as the function (for this process) and as its reference (for the store).
            object.__setattr__(self, "_function", self.test)
            object.__setattr__(self, "test", reference_of_test(self.test))
        elif is_custom_test(self.test):
            pass  # "module:qualname", imported when the hypothesis is evaluated
        elif self.test not in TEST_CHOICES:
            raise ConfigError(
                f"hypothesis on {self.metric!r}: test must be one of {', '.join(TEST_CHOICES)}, "
                f"or a function of the two samples returning a p-value, got {self.test!r}"
            )
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not 0 < self.alpha < 1:
            raise ConfigError(f"hypothesis on {self.metric!r}: alpha must be between 0 and 1, got {self.alpha!r}")
        object.__setattr__(self, "treatments", tuple(self.treatments))
        if self.bounds is not None:
            object.__setattr__(self, "bounds", check_bounds(self.bounds, f"hypothesis on {self.metric!r}"))
        if self.anytime is not None:
            if self.anytime not in ANYTIME_METHODS:
                raise ConfigError(f"hypothesis on {self.metric!r}: anytime must be one of "
                                  f"{', '.join(ANYTIME_METHODS)}, got {self.anytime!r}")
            if self.bounds is None:
                raise ConfigError(f"hypothesis on {self.metric!r}: anytime {self.anytime!r} needs the "
                                  "metric's bounds (bounds: [low, high])")


def hypothesis_record(h: Hypothesis) -> dict[str, Any]:
    """The fields the store keeps (``runs.hypotheses``); ``bounds`` only when declared, so the
    record (and a confirmatory lock's fingerprint) of a hypothesis without bounds is unchanged."""
    record = dataclasses.asdict(h)
    for key in ("bounds", "anytime"):
        if record.get(key) is None:
            record.pop(key, None)
    return record


def conflicting_bounds(hypotheses: list[Hypothesis],
                       metric_bounds: Mapping[str, tuple[float, float, str]] | None = None,
                       ) -> tuple[int, str] | None:
    """The first hypothesis (index, message) whose metric was declared with other bounds (or
    another anytime method) by an earlier one, or by the experiment's ``metric_bounds``
    (``check_metric_bounds``), else None: a metric's rows use one of them."""
    seen: dict[str, tuple[Any, Any, str]] = {
        metric: ((low, high), method, "the experiment's metric_bounds")
        for metric, (low, high, method) in (metric_bounds or {}).items()}
    for i, h in enumerate(hypotheses):
        if h.bounds is None:
            continue
        first = seen.setdefault(h.metric, (h.bounds, h.anytime or "bounded", "an earlier hypothesis's"))
        if first[:2] != (h.bounds, h.anytime or "bounded"):
            return i, (f"hypothesis on {h.metric!r}: bounds {list(h.bounds)} ({h.anytime or 'bounded'}) "
                       f"differ from {first[2]} {list(first[0])} ({first[1]}) on the "
                       "same metric; declare them once, the same")
    return None


MAX_METRIC_BOUNDS = 1000  # metrics a run declares bounds for: more is a mistake (or a bomb)


def check_metric_bounds(value: Any, where: str = "metric_bounds") -> dict[str, tuple[float, float, str]]:
    """An experiment's ``metric_bounds`` (``{"score": (0, 100)}``, or ``{"score": {"bounds":
    (0, 100), "anytime": "betting"}}``) as metric -> (low, high, method); a one-line
    ConfigError naming the key and value at fault else. None or {} is no bounds."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of metric: [low, high], got "
                          f"{type(value).__name__} {_short(value)}")
    if len(value) > MAX_METRIC_BOUNDS:
        raise ConfigError(f"{where}: {len(value)} metrics, at most {MAX_METRIC_BOUNDS}")
    out: dict[str, tuple[float, float, str]] = {}
    for metric, spec in value.items():
        if not isinstance(metric, str) or not metric:
            raise ConfigError(f"{where}: a key must be a metric name, got {_short(metric)}")
        here = f"{where}.{metric}"
        method = "bounded"
        if isinstance(spec, Mapping):
            unknown = [k for k in spec if k not in ("bounds", "anytime")]
            if unknown:
                raise ConfigError(f"{here}: unknown key {_short(unknown[0])}; allowed keys: bounds, anytime")
            if "bounds" not in spec:
                raise ConfigError(f"{here}: missing key 'bounds' ([low, high])")
            method = spec.get("anytime") or "bounded"
            if method not in ANYTIME_METHODS:
                raise ConfigError(f"{here}.anytime: must be one of {', '.join(ANYTIME_METHODS)}, "
                                  f"got {_short(method)}")
            spec, here = spec["bounds"], f"{here}.bounds"
        elif isinstance(spec, tuple) and len(spec) == 3 and spec[2] in ANYTIME_METHODS:
            spec, method = spec[:2], spec[2]  # this function's own output, checked again
        if isinstance(spec, (list, tuple)) and len(spec) > 2:  # never echo a huge list whole
            raise ConfigError(f"{here}: bounds must be [low, high], two numbers, got a list of {len(spec)}")
        low, high = check_bounds(spec, here)
        out[metric] = (low, high, method)
    return out


def metric_bounds_record(bounds: Mapping[str, tuple[float, float, str]]) -> dict[str, Any]:
    """What the store keeps (``runs.metric_bounds``): metric -> {"bounds": [low, high], "anytime"}."""
    return {m: {"bounds": [low, high], "anytime": method} for m, (low, high, method) in bounds.items()}


def stored_metric_bounds(value: Any) -> dict[str, tuple[float, float, str]]:
    """Metric bounds from the store's JSON (``runs.metric_bounds``), its parsed record, or
    ``check_metric_bounds``'s own output; {} for none, and for a record it cannot read (a
    hand-edited store): the rows then use the unbounded sequence, as without bounds."""
    import json

    if not value:
        return {}
    try:
        return check_metric_bounds(json.loads(value) if isinstance(value, str) else value)
    except (ValueError, ConfigError, AttributeError, TypeError):
        return {}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_bounds(value: Any, where: str) -> tuple[float, float]:
    """``[low, high]`` as two finite floats with low < high; a ConfigError naming ``where`` else."""
    shape = f"{where}: bounds must be [low, high], two finite numbers with low < high, got {_short(value)}"
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(shape)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ConfigError(shape)
    low, high = (float(v) for v in value)
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ConfigError(shape)
    if not math.isfinite(high - low):  # the difference's range [low - high, high - low] overflows
        raise ConfigError(f"{where}: bounds {_short(value)} are too far apart: high - low must be a "
                          "finite number")
    return low, high


def is_custom_test(test: Any) -> bool:
    """A user's test: a function, or its "module:qualname" reference."""
    return callable(test) or (isinstance(test, str) and ":" in test)


def reference_of_test(fn: Callable[..., Any]) -> str:
    """"module:qualname" of a test function."""
    module = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__qualname__
    return f"{module}:{name}"


def name_of_test(test: Any) -> str:
    """"welch", or a function's own name ("my_test" for "lab.stats:my_test")."""
    if callable(test):
        return getattr(test, "__name__", None) or type(test).__name__
    if is_custom_test(test):
        return test.rpartition(":")[2].rpartition(".")[2]
    return str(test)


def load_test(test: Any) -> Callable[..., Any]:
    """The function a custom test names; a ConfigError saying why it cannot be had."""
    if callable(test):
        return test
    module_name, _, qualname = test.partition(":")
    if "<" in qualname:  # a lambda or a function defined inside another: no importable name
        raise ConfigError(f"test {test!r} cannot be reloaded: define it at a module's top level")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except Exception as exc:  # noqa: BLE001 - whatever the import raised, say it in the row
        raise ConfigError(f"test {test!r} cannot be loaded: {type(exc).__name__}: {exc}") from None
    if not callable(target):
        raise ConfigError(f"test {test!r} is a {type(target).__name__}, not a function")
    return target
