"""Per-replicate metric recording: ``ctx.metrics.add(name, value)``."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

# The store keeps integers beyond 64 bits exactly as decimal text; Python refuses to turn
# ints of more than ~4300 digits into text, so larger ones are refused when recorded.
MAX_INT_BITS = 10_000


def check_metric(name: Any, value: Any) -> int | float | bool:
    """Return ``value`` as a plain Python number, or raise naming the metric."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"metric name must be a non-empty string, got {name!r}")
    # The usual case without the ABC checks; ints only within 64 bits, so any check on
    # larger integers below still applies to them.
    kind = type(value)
    if kind is float or kind is bool or (kind is int and -(1 << 63) <= value < 1 << 63):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        value = int(value)
        if value.bit_length() > MAX_INT_BITS:
            raise ValueError(
                f"metric {name!r}: an integer of {value.bit_length():,} bits is too large to "
                f"store (limit {MAX_INT_BITS:,} bits); record it as a float or its logarithm"
            )
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    # numpy bools are not numbers.Integral; accept them without importing numpy.
    if type(value).__name__ == "bool_":
        return bool(value)
    raise TypeError(
        f"metric {name!r}: value {value!r} is a {type(value).__name__}; "
        "metrics must be numbers or bools"
    )


class Metrics:
    """The metrics of one replicate.

    ``add`` keeps every value in order; adding a name twice makes a series (loss per
    epoch). Lookups by name give the last value, which is what per-replicate tables use.
    """

    __slots__ = ("_values", "_on_add")

    def __init__(self, on_add: Callable[[str, Any], None] | None = None) -> None:
        self._values: list[tuple[str, int | float | bool]] = []
        self._on_add = on_add

    def add(self, name: str, value: int | float | bool) -> None:
        """Record ``value`` for metric ``name`` in this replicate."""
        # The usual case (a str name, a float, bool or 64-bit int) without a call.
        kind = type(value)
        if not (type(name) is str and name and (
                kind is float or kind is bool or (kind is int and -(1 << 63) <= value < 1 << 63))):
            value = check_metric(name, value)
        self._values.append((name, value))
        if self._on_add is not None:
            self._on_add(name, value)

    def last(self) -> dict[str, int | float | bool]:
        """Each metric's last value, in first-recorded order."""
        return dict(self._values)

    def series(self, name: str) -> list[int | float | bool]:
        """Every value recorded for ``name``, in order."""
        return [v for n, v in self._values if n == name]

    def items(self) -> list[tuple[str, int | float | bool]]:
        """Every (name, value) recorded, in order."""
        return list(self._values)

    def __getitem__(self, name: str) -> int | float | bool:
        for n, v in reversed(self._values):
            if n == name:
                return v
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return any(n == name for n, _ in self._values)

    def __iter__(self) -> Iterator[str]:
        return iter(self.last())

    def __len__(self) -> int:
        return len(self.last())

    def __repr__(self) -> str:
        return f"Metrics({self.last()!r})"

    # Retries roll back what a failed attempt recorded.
    def _mark(self) -> int:
        return len(self._values)

    def _rollback(self, mark: int) -> None:
        del self._values[mark:]
