"""Input checking and cleaning shared by the tests: numbers in, clear messages out."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable


class DataError(ValueError):
    """Input data the statistics cannot use; the message names the offending value."""


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def to_number(value: object, side: str, index: int) -> float | None:
    """Convert one replicate value to float; None (and NaN) mean "missing".

    Strings are refused even when they look numeric, because a metric that
    arrives as text almost always signals a bug upstream that should be seen.
    """
    if value is None:
        return None
    if isinstance(value, numbers.Real):  # includes bool, int, numpy scalars
        number = float(value)
        if math.isnan(number):
            return None
        if math.isinf(number):
            raise DataError(f"non-finite value {_describe(value)} in {side} (replicate {index})")
        return number
    raise DataError(
        f"non-numeric value {_describe(value)} ({type(value).__name__}) "
        f"in {side} (replicate {index})"
    )


def read_side(values: object, side: str) -> list[float | None]:
    """Read one side of a comparison: a sequence of numbers, None or NaN."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise DataError(f"{side} must be a list of numbers, got {type(values).__name__}")
    return [to_number(v, side, i) for i, v in enumerate(values)]


def as_floats(values: object, side: str) -> list[float]:
    """Read a plain list of numbers for a primitive test; gaps are not allowed here."""
    read = read_side(values, side)
    for i, v in enumerate(read):
        if v is None:
            raise DataError(
                f"missing value (None/NaN) in {side} (replicate {i}); "
                "drop it first or use compare_samples"
            )
    return [v for v in read if v is not None]


def require_n(values: list[float], minimum: int, side: str) -> None:
    if len(values) < minimum:
        raise DataError(f"{side} needs at least {minimum} values, got {len(values)}")


def require_same_length(a: list[float], b: list[float]) -> None:
    if len(a) != len(b):
        raise DataError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")


def is_binary(values: Iterable[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def first_non_binary(values: Iterable[float]) -> float | None:
    for v in values:
        if v not in (0.0, 1.0):
            return v
    return None


def require_binary(values: list[float], side: str) -> None:
    bad = first_non_binary(values)
    if bad is not None:
        raise DataError(f"{side} must hold only 0/1 values, found {bad!r}")


def is_constant(values: list[float]) -> bool:
    """True when all values are equal up to floating-point noise.

    An exact ``==`` check would let 0.30000000000000004 vs 0.3 produce a huge t
    statistic and a spurious "significant" verdict, so allow a relative 1e-12.
    """
    if not values:
        return True
    low, high = min(values), max(values)
    scale = max(1.0, abs(low), abs(high))
    return high - low <= 1e-12 * scale


def mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def sd(values: list[float]) -> float | None:
    """Sample standard deviation (n - 1 denominator); None below two values."""
    if len(values) < 2:
        return None
    m = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (len(values) - 1))


def differences(a: list[float], b: list[float]) -> list[float]:
    """Paired differences b - a, rounded to 12 significant digits.

    Rounding stops subtraction noise (0.3 - 0.1 vs 0.2) from splitting ties,
    which matters for rank tests and for spotting zero-variance differences.
    """
    return [float(f"{y - x:.12g}") for x, y in zip(a, b, strict=True)]
