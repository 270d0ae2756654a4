"""``crystallize history NAME``: an experiment's runs with each run's verdict (the TUI
History's words), as one table where it fits and a narrow layout at 80 columns."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

from ..watch.headline import RUNNING, headline
from .common import EXIT_OK, Workspace, console, is_tty

GAP = "  "  # between the columns of the narrow layout (as rich's box-less table spaces them)


def verdicts(store: Any, runs: list[Any]) -> dict[str, str]:
    """Each run's verdict (watch/headline.py), by run id: "—" while a run goes, "unreadable:
    ..." for a run that does not load (the other rows still show)."""
    found = {}
    for r in runs:
        if r.status == "running":
            found[r.run_id] = RUNNING
            continue
        try:
            found[r.run_id] = headline(store.load(r.run_id))
        except Exception as exc:  # noqa: BLE001 - a damaged run: said in its row
            found[r.run_id] = f"unreadable: {type(exc).__name__}"
    return found


def _when(timestamp: float | None, short: bool = False) -> str:
    if timestamp is None:
        return "—"
    return dt.datetime.fromtimestamp(timestamp).strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M")


def cmd_history(args: Any, ws: Workspace) -> int:
    from rich.measure import Measurement
    from rich.table import Table

    from ..core.chain import consumed_cells

    ws.experiment(args.name, with_store=False)  # a clear error for a name that does not exist
    runs = ws.store.runs(args.name) if ws.store_path.exists() else []
    if not runs:
        print(f"no runs of {args.name} in {ws.store_path}")
        return EXIT_OK
    consumed = consumed_cells(ws.store, [r.run_id for r in runs])
    chained = any(consumed.values())  # a chained experiment: which producer run each read
    verdict = verdicts(ws.store, runs)
    con = console()
    table = Table(title=f"runs of {args.name} in {ws.store_path}" if is_tty() else None,
                  box=None, pad_edge=False)
    for header in ("run id", "started", "status", "kind", "ok", "failed", "of", "seed", "took",
                   "verdict", *(["consumed"] if chained else [])):
        table.add_column(header)
    for r in runs:
        took = f"{r.finished_at - r.started_at:.1f}s" if r.finished_at else "—"
        table.add_row(r.run_id, _when(r.started_at), r.status, r.kind, str(r.ok), str(r.failed),
                      str(r.total), str(r.base_seed), took, verdict[r.run_id],
                      *([consumed[r.run_id] or "—"] if chained else []))
    # A script (a pipe) always gets the whole table; a terminal too narrow for it, the short one.
    if not is_tty() or Measurement.get(con, con.options.update_width(10**6), table).maximum <= con.width:
        con.print(table)
        return EXIT_OK
    con.print(f"runs of {args.name} (crystallize show RUN_ID: seed, timings, statistics)",
              markup=False)
    for line in narrow_lines(runs, verdict, consumed, con.width):
        con.print(line, markup=False, soft_wrap=True)
    return EXIT_OK


def narrow_lines(runs: list[Any], verdict: dict[str, str], consumed: dict[str, str],
                 width: int) -> list[str]:
    """The history for a narrow terminal: run id, started, status, ok of total and the
    verdict (wrapped in its column), and under a chained run the producer run it read."""
    header = ("run id", "started", "status", "ok/of", "verdict")
    rows = []
    for r in runs:
        status = r.status + (" (confirm.)" if r.kind == "confirmatory" else "")
        done = f"{r.ok}/{r.total}" + (f", {r.failed} failed" if r.failed else "")
        rows.append((r.run_id, _when(r.started_at, short=True), status, done, verdict[r.run_id]))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(4)]
    left = sum(widths) + len(GAP) * 4
    room = max(12, width - left)
    lines = []
    for row in (header, *rows):
        head = GAP.join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + GAP
        wrapped = textwrap.wrap(row[4], room) or [""]
        lines.append(head + wrapped[0])
        lines += [" " * len(head) + more for more in wrapped[1:]]
        if row is not header and consumed.get(row[0]):
            lines += textwrap.wrap(f"consumed {consumed[row[0]]}", max(20, width - 4),
                                   initial_indent="  ↳ ", subsequent_indent="    ")
    return lines
