"""The one event -> output line formatter, for a live run's events and a stored run's rows alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ..core import events as ev

# Style tags: a view may colour by them; the text alone already reads without colour.
STDOUT, STDERR, LOG, EVENT, FAILED, NOTE = "stdout", "stderr", "log", "event", "failed", "note"


class Line(NamedTuple):
    """One output line: the condition it belongs to (for filtering), its text, a style tag."""

    condition: str
    text: str
    kind: str


def _tag(condition: str | None, replicate: int | None) -> str:
    return f"[{condition} #{replicate}]"


def _compose(condition: str | None, replicate: int | None, kind: str, body: str) -> Line:
    marker = {STDERR: "! ", EVENT: "▸ ", FAILED: "✗ failed: "}.get(kind, "")
    return Line(condition or "", f"{_tag(condition, replicate)} {marker}{body}".rstrip(), kind)


def _event_body(name: str, data: Mapping[str, Any]) -> str:
    return " ".join([str(name), *(f"{key}={value!r}" for key, value in data.items())])


def event_line(event: ev.Event) -> Line | None:
    """The line for a live event, or None for events the output does not show."""
    if isinstance(event, ev.Output):
        kind = STDERR if event.stream == "stderr" else LOG if event.stream == "log" else STDOUT
        return _compose(event.treatment, event.replicate, kind, event.text)
    if isinstance(event, ev.UserEvent):
        return _compose(event.treatment, event.replicate, EVENT, _event_body(event.kind, event.data))
    if isinstance(event, ev.ReplicateFailed):
        return failure_line(event.treatment, event.replicate, event.error)
    return None


def stored_line(row: Mapping[str, Any]) -> Line | None:
    """The line for one row of ``Store.events()`` (an output line or a ``ctx.emit`` event),
    written exactly as the live event was."""
    condition, replicate = row.get("treatment"), row.get("replicate")
    if row.get("kind") == "output":
        stream = row.get("stream")
        kind = STDERR if stream == "stderr" else LOG if stream == "log" else STDOUT
        return _compose(condition, replicate, kind, str(row.get("text", "")))
    if row.get("kind") == "event":
        data = row.get("data")
        return _compose(condition, replicate, EVENT,
                        _event_body(row.get("event", ""), data if isinstance(data, Mapping) else {}))
    return None


def failure_line(condition: str | None, replicate: int | None, error: str) -> Line:
    """The line that marks a failed replicate (its error's first line)."""
    return _compose(condition, replicate, FAILED, (error or "").splitlines()[0] if error else "")


def stored_lines(rows: Iterable[Mapping[str, Any]],
                 failures: Iterable[tuple[str, int, str]] = ()) -> list[Line]:
    """A stored run's output as the live panel showed it: each row's line, and each failed
    replicate's line (condition, replicate, error) after that replicate's own output, where the
    live run put it. The store commits a replicate's output together, so its rows are adjacent."""
    pending = {(c, r): error for c, r, error in failures}
    lines: list[Line] = []
    current: tuple[Any, Any] | None = None
    for row in rows:
        key = (row.get("treatment"), row.get("replicate"))
        if key != current:
            if current in pending:
                lines.append(failure_line(*current, pending.pop(current)))
            current = key
        line = stored_line(row)
        if line is not None:
            lines.append(line)
    if current in pending:
        lines.append(failure_line(*current, pending.pop(current)))
    lines.extend(failure_line(c, r, error) for (c, r), error in pending.items())
    return lines


def earlier_lines_note(shown: int) -> Line:
    """Says that a stored run's output starts later than the run did."""
    return Line("", f"… earlier lines not shown: this panel keeps the last {shown}", NOTE)
