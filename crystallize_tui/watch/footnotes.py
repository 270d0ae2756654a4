"""Footnotes of a final table's anytime cells: what each number assumes, one line per distinct note."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The sequences by the name a reader can look up (stats/sequential.py cites the papers).
SEQUENCE_NAMES = {"bounded": "empirical-Bernstein", "betting": "betting",
                  "asymptotic": "asymptotic", "t": "normal-mixture t"}
MARKS = "*†‡§¶"  # then [6], [7], ...: a table rarely has more than five distinct notes


def mark(i: int) -> str:
    """The i-th footnote's symbol (0-based)."""
    return MARKS[i] if i < len(MARKS) else f"[{i + 1}]"


def assumption(row: Any, bounds: Mapping[str, Any] | None = None) -> str:
    """What one anytime row (an AnytimeRow or its dict) assumes, in words: "empirical-Bernstein
    in declared bounds [0, 100]: exact at every n", "asymptotic: finite variance; ...", then its
    note (a value outside the bounds, burn-in) when it has one. Short, for 80 columns: the
    difference's range follows from the bounds (JSON and the live panel give it)."""
    get = row.get if isinstance(row, dict) else (lambda key: getattr(row, key, None))
    method, assumes, note = get("method") or "", get("assumes") or "", get("note") or ""
    name = SEQUENCE_NAMES.get(method, method)
    declared = (bounds or {}).get(get("metric"))
    if method in ("bounded", "betting"):
        where = (f"in declared bounds [{declared[0]:g}, {declared[1]:g}]" if declared is not None
                 else "for 0/1 outcomes")
        text = f"{name} {where}: exact at every n"
    elif " outside declared " in note:  # the row's first note part says which value (live_stats._Row)
        value, _, note = note.partition(" · ")
        return " · ".join(p for p in (f"{value.rpartition(': ')[0]}: {name} over the whole "
                                      f"history ({assumes})", note) if p)
    else:
        text = f"{name}: {assumes}" if assumes else name
    return f"{text} · {note}" if note else text


def anytime_footnotes(rows: list[Any], bounds: Mapping[str, Any] | None = None
                      ) -> tuple[dict[tuple[str, str], str], list[str]]:
    """Each row's mark by (treatment, metric), and the footnotes "* empirical-Bernstein in
    declared bounds [0, 1] (...)": rows that assume the same share one mark."""
    marks: dict[tuple[str, str], str] = {}
    seen: dict[str, str] = {}
    for row in rows:
        get = row.get if isinstance(row, dict) else (lambda key, row=row: getattr(row, key, None))
        text = assumption(row, bounds)
        if text not in seen:
            seen[text] = mark(len(seen))
        marks[(get("treatment"), get("metric"))] = seen[text]
    return marks, [f"{symbol} {text}" for text, symbol in seen.items()]
