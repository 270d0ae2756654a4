"""Input checking and cleaning shared by the tests: numbers in, clear messages out."""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable

import numpy as np

# Types numpy converts to float exactly as to_number would; anything else (strings,
# Decimal, objects) goes through to_number one value at a time for a precise message.
_PLAIN_TYPES = frozenset({float, int, bool, type(None), np.float64, np.float32, np.int64, np.int32,
                          np.bool_})
# Floating-point noise from a few arithmetic steps is a few units in the last place;
# a spread within this many ulps of the data's own magnitude counts as none.
CONSTANT_ULPS = 4


class DataError(ValueError):
    """Input data the statistics cannot use; the message names the offending value."""

    reason = "non-numeric value"


class NonFiniteError(DataError):
    """An infinite (or float-overflowing) number where a finite one is needed."""

    reason = "non-finite value"


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
        try:
            number = float(value)
        except OverflowError:
            raise NonFiniteError(
                f"value {_describe(value)} in {side} (replicate {index}) is too large for a float"
            ) from None
        if math.isnan(number):
            return None
        if math.isinf(number):
            raise NonFiniteError(
                f"non-finite value {_describe(value)} in {side} (replicate {index})"
            )
        return number
    raise DataError(
        f"non-numeric value {_describe(value)} ({type(value).__name__}) "
        f"in {side} (replicate {index})"
    )


class Floats(list):
    """A list already read and checked: finite floats only, no gaps. Reading it again
    is free, which matters when one comparison hands it to several tests."""


def read_side(values: object, side: str) -> list[float | None]:
    """Read one side of a comparison: a sequence of numbers, None or NaN."""
    if values is None:
        return []
    if type(values) is Floats:
        return values  # type: ignore[return-value]
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise DataError(f"{side} must be a list of numbers, got {type(values).__name__}")
    items = values if isinstance(values, list) else list(values)
    if set(map(type, items)) <= _PLAIN_TYPES:
        # One numpy conversion instead of a Python call per value: the engine compares
        # lists of 10,000 replicates many times over.
        try:
            arr = np.array(items, dtype=float)
        except OverflowError:
            arr = None
        if arr is not None and not np.isinf(arr).any():
            gaps = np.flatnonzero(np.isnan(arr)).tolist()
            if not gaps:
                return Floats(arr.tolist())
            out = arr.tolist()
            for i in gaps:
                out[i] = None
            return out
    return [to_number(v, side, i) for i, v in enumerate(items)]


def as_floats(values: object, side: str) -> list[float]:
    """Read a plain list of numbers for a primitive test; gaps are not allowed here."""
    read = read_side(values, side)
    if None in read:
        raise DataError(
            f"missing value (None/NaN) in {side} (replicate {read.index(None)}); "
            "drop it first or use compare_samples"
        )
    return read  # type: ignore[return-value]


def require_n(values: list[float], minimum: int, side: str) -> None:
    if len(values) < minimum:
        raise DataError(f"{side} needs at least {minimum} values, got {len(values)}")


def require_same_length(a: list[float], b: list[float]) -> None:
    if len(a) != len(b):
        raise DataError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")


def is_binary(values: Iterable[float]) -> bool:
    return set(values) <= {0.0, 1.0}


def first_non_binary(values: Iterable[float]) -> float | None:
    if is_binary(values):
        return None
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
    statistic and a spurious "significant" verdict. The tolerance is a few units in
    the last place of the data's own magnitude (no absolute floor), so values on a
    tiny scale (1e-13) or riding on a huge offset (1e15 + noise) keep their spread.
    """
    if not values:
        return True
    low, high = min(values), max(values)
    scale = max(abs(low), abs(high))
    return high - low <= CONSTANT_ULPS * sys.float_info.epsilon * scale


def mean(values: list[float]) -> float | None:
    if not values:
        return None
    # Summing deviations from the first value keeps the mean exact to rounding even
    # on a huge offset (1e15 + noise), where a plain sum would lose the noise.
    arr = np.asarray(values, dtype=float)
    return float(arr[0] + np.mean(arr - arr[0]))


def sd(values: list[float]) -> float | None:
    """Sample standard deviation (n - 1 denominator); None below two values."""
    if len(values) < 2:
        return None
    arr = np.asarray(values, dtype=float)
    centred = arr - mean(values)  # type: ignore[operator]
    return math.sqrt(float(centred @ centred) / (len(values) - 1))


def differences(a: list[float], b: list[float]) -> list[float]:
    """Paired differences b - a: zero when within a few ulps of the values, else
    rounded to 12 significant digits.

    Rounding stops subtraction noise (0.3 - 0.1 vs 0.2) from splitting ties,
    which matters for rank tests and for spotting zero-variance differences.
    """
    if len(a) != len(b):
        raise ValueError(f"differences of lists of lengths {len(a)} and {len(b)}")
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = y - x
    # A difference within a few ulps of the values themselves is rounding, not data
    # (0.1 * 3 vs 0.3): zero, judged on the values' own scale, not on the difference's.
    noise = CONSTANT_ULPS * sys.float_info.epsilon * np.maximum(np.abs(x), np.abs(y))
    d[np.abs(d) <= noise] = 0.0
    # Scale each difference so that rounding to an integer keeps 12 significant digits.
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(d)))
        exponent[~np.isfinite(exponent)] = 0.0
        scale = 10.0 ** (11.0 - exponent)
        rounded = np.round(d * scale) / scale
    rounded = np.where(np.isfinite(rounded), rounded, d)
    return rounded.tolist()
