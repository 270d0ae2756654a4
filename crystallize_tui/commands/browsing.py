"""``crystallize list``, ``diff``, ``show`` and ``export``: reading, not running (``history``: history_table.py)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..core.errors import CrystallizeError
from ..core.fingerprint import canonical_json, flatten
from .common import EXIT_OK, EXIT_USAGE, Workspace, console, is_tty
from .preload import start_statistics_import
from .running import report, result_document

if TYPE_CHECKING:
    from ..core.result import Result


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def cmd_list(args: Any, ws: Workspace) -> int:
    """Every experiment, loaded or not. Exit 0 when the listing worked, even with broken
    experiments among them (they are listed, and why goes to stderr); --strict makes
    them exit 2, for a check in CI."""
    from rich.table import Table

    found = ws.discover()
    last = {}
    if ws.store_path.exists():
        for record in ws.store.runs():
            last.setdefault(record.experiment, record)
    con = console()
    where = ws.root / "experiments"
    if not found.experiments and not found.errors:
        con.print(f"no experiments found under {where}", markup=False)
        return EXIT_OK
    # A title is for reading; into a pipe the header comes first, as tools expect.
    table = Table(title=f"experiments under {where}" if is_tty() else None, box=None,
                  pad_edge=False)
    for header in ("name", "folder", "treatments", "replicates", "last run"):
        table.add_column(header)
    rows = []
    for item in found.experiments:
        exp = item.experiment
        record = last.get(item.name)
        status = f"{record.status} {_when(record.started_at)}" if record else "never run"
        rows.append((str(item.path), [item.name, _folder(item.path, ws),
                                      ", ".join(t.name for t in exp.treatments) or "—",
                                      str(exp.replicates), status]))
    for error in found.errors:
        rows.append((str(error.path), [Path(error.path).parent.name, _folder(error.path, ws),
                                       "—", "—", "failed to load (see below)"]))
    for _, cells in sorted(rows):
        table.add_row(*cells)
    con.print(table)
    if found.errors:
        err = console(stderr=True)
        err.print(f"[red]{len(found.errors)} experiment(s) failed to load:[/]")
        for e in found.errors:
            err.print(f"  {e.message}", markup=False)
        if args.strict:
            return EXIT_USAGE
    return EXIT_OK


def _folder(yaml_path: Any, ws: Workspace) -> str:
    """The experiment's folder, relative to the workspace when inside it."""
    folder = Path(yaml_path).parent
    try:
        return folder.relative_to(ws.root).as_posix()
    except ValueError:
        return str(folder)


def config_diff(a_name: str, a: Any, b_name: str, b: Any) -> list[str]:
    """Unified-diff style lines for the keys whose values differ."""
    fa = flatten(json.loads(canonical_json(a)))
    fb = flatten(json.loads(canonical_json(b)))
    lines = [f"--- {a_name}", f"+++ {b_name}"]
    for key in sorted(fa.keys() | fb.keys()):
        if key in fa and key in fb and fa[key] == fb[key]:
            continue
        if key in fa:
            lines.append(f"- {key}: {json.dumps(fa[key])}")
        if key in fb:
            lines.append(f"+ {key}: {json.dumps(fb[key])}")
    return lines


def cmd_diff(args: Any, ws: Workspace) -> int:
    experiment = ws.experiment(args.name, with_store=False)
    configs = experiment.resolve_configs([args.a, args.b])
    lines = config_diff(args.a, configs[args.a], args.b, configs[args.b])
    if len(lines) == 2:
        print(f"{args.a} and {args.b} have identical configs")
        return EXIT_OK
    color = is_tty()
    for line in lines:
        if color and line[:1] in "+-" and line[:3] not in ("---", "+++"):
            line = f"\033[{'32' if line[0] == '+' else '31'}m{line}\033[0m"
        print(line)
    return EXIT_OK


def cmd_show(args: Any, ws: Workspace) -> int:
    start_statistics_import()  # while the run loads from the store
    result = ws.store_holding(args.run_id).load(args.run_id)
    options = compare_options(args, result)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(result_document(result), indent=2) + "\n")
        return EXIT_OK
    con = console()
    row = ws.store.run_row(args.run_id)
    con.print(f"run {result.run_id} of {result.experiment}: {result.status}, started "
              f"{_when(row['started_at'])}, seed {result.seed}, {result.replicates} replicates "
              f"x {len(result.conditions)} conditions", markup=False)
    if row.get("note"):
        con.print(f"note: {row['note']}", markup=False)
    for line in _kind_lines(row, ws):
        con.print(line, markup=False)
    from ..core.chain import chain_lines

    for line in chain_lines(ws.store, args.run_id, _fingerprint_now(ws)):  # a chained run: what it read
        con.print(line, markup=False)
    for condition in result.conditions:
        metrics = result.metrics[condition].metrics
        shown = []
        for name, values in metrics.items():
            nums = [v for v in values if v is not None]
            mean = sum(nums) / len(nums) if nums else float("nan")
            shown.append(f"{name}={mean:.4g}")
        done = sum(1 for r in result.metrics[condition].replicates if r is not None and r.ok)
        con.print(f"  {condition:<20} {done}/{result.replicates} ok  " + "  ".join(shown),
                  markup=False)
    return report(result, ws.store_path, con, tracebacks=True, compare=options)


def _fingerprint_now(ws: Workspace) -> Any:
    """``now(name)``: the fingerprint a run of experiment ``name`` would have now; None when it
    does not load or resolve (show then says nothing about it)."""
    from ..core.chain_upstream import current_fingerprint

    def now(name: str) -> str | None:
        try:
            return current_fingerprint(ws.experiment(name, with_store=False), ws.store)
        except Exception:  # a broken producer: show reports the run, not the producer
            return None

    return now


def compare_options(args: Any, result: Result) -> dict[str, Any]:
    """``--compare A B`` and ``--family``/``--correction`` as result.compare options; an
    unknown condition fails here, in one line, before anything is printed."""
    options: dict[str, Any] = {"family": args.family, "correction": args.correction}
    if args.compare:
        from ..core.compare import check_pair

        a, b = check_pair(result, args.compare)
        options["pair"] = (a, b)
    return options


def _kind_lines(row: dict[str, Any], ws: Workspace) -> list[str]:
    """Exploratory or confirmatory; for a confirmatory run, what changed since its lock
    (against the experiment as it is on disk now)."""
    from ..core.confirm import CONFIRMATORY, describe_run

    if row.get("kind") != CONFIRMATORY:
        return describe_run(row, None)
    try:
        experiment = ws.experiment(row["experiment"], with_store=False)
    except CrystallizeError as exc:
        return describe_run(row, None, missing=f"the experiment does not load: {exc}")
    return describe_run(row, experiment)


def cmd_export(args: Any, ws: Workspace) -> int:
    result = ws.store_holding(args.run_id).load(args.run_id)
    if not args.output:
        _export(result, args.format, sys.stdout)
        return EXIT_OK
    try:
        with open(args.output, "w", newline="", encoding="utf-8") as fh:
            _export(result, args.format, fh)
    except OSError as exc:  # a missing folder, a directory, no permission, a full disk
        raise CrystallizeError(f"-o {args.output}: cannot write the file: {exc.strerror or exc}") from None
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _export(result: Result, fmt: str, fh: TextIO) -> None:
    if fmt == "csv":
        result.to_csv(fh)
    else:
        fh.write(json.dumps(result_document(result), indent=2) + "\n")
