"""Input checks shared by the confidence sequences: alpha, finite differences, declared bounds."""

from __future__ import annotations

import numpy as np

from ._data import DataError

DEFAULT_ALPHA = 0.05
DEFAULT_TARGET_N = 100


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be between 0 and 1, got {alpha!r}")


def _as_array(differences: object) -> np.ndarray:
    x = np.asarray(differences, dtype=float)
    if x.ndim == 0:
        raise DataError("differences must be a sequence of numbers, got a single value")
    bad = ~np.isfinite(x)
    if bad.any():
        index = np.argwhere(bad)[0]
        raise DataError(f"non-finite difference {float(x[tuple(index)])!r} at replicate {int(index[-1])}")
    return x


def _check_bounds(x: np.ndarray, low: float, high: float) -> None:
    if not high > low:
        raise DataError(f"bounds need low < high, got low={low!r}, high={high!r}")
    outside = (x < low) | (x > high)
    if outside.any():
        index = np.argwhere(outside)[0]
        raise DataError(
            f"difference {float(x[tuple(index)])!r} at replicate {int(index[-1])} is outside the declared "
            f"bounds [{low!r}, {high!r}]"
        )
