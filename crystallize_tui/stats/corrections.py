"""Multiple-comparison adjustment of p-values (Holm, Benjamini-Hochberg)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

METHODS = ("holm", "bh", "none")


def _holm(ps: np.ndarray) -> np.ndarray:
    # Holm (1979) step-down: the i-th smallest p (1-based) is multiplied by
    # m - i + 1; a running maximum keeps the adjusted values monotone in p.
    m = len(ps)
    order = np.argsort(ps, kind="stable")
    scaled = ps[order] * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def adjust_pvalues(pvalues: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Adjust a family of p-values for multiple comparisons.

    ``holm``: Holm's step-down procedure (controls the family-wise error rate under
    any dependence). ``bh``: Benjamini-Hochberg (controls the false discovery
    rate; scipy.stats.false_discovery_control). ``none``: unchanged.
    Entries that are None (no test applied) stay None and do not count towards
    the family size. Results are in input order, monotone in p and capped at 1.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    present = [i for i, p in enumerate(pvalues) if p is not None]
    for i in present:
        p = pvalues[i]
        if math.isnan(p) or not 0.0 <= p <= 1.0:  # type: ignore[arg-type]
            raise ValueError(f"p-value {p!r} at position {i} is not between 0 and 1")
    out: list[float | None] = [None] * len(pvalues)
    if not present:
        return out
    ps = np.array([pvalues[i] for i in present], dtype=float)
    if method == "holm":
        adjusted = _holm(ps)
    elif method == "bh":
        adjusted = stats.false_discovery_control(ps, method="bh")
    else:
        adjusted = ps
    for i, p in zip(present, adjusted, strict=True):
        out[i] = float(p)
    return out
