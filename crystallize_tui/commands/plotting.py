"""``crystallize show RUN_ID --plot``, ``crystallize plot RUN_ID METRIC -o FILE.svg`` and
``crystallize history NAME --plot METRIC``: a run's charts in the terminal or in a file."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, CrystallizeError
from .common import EXIT_OK, Workspace, console, is_tty

MIN_HEIGHT, MAX_HEIGHT = 16, 30
HISTORY_RUNS = 50  # a chart with more runs than this shows the newest only


def chart_size() -> tuple[int, int]:
    """The terminal's width and a chart height that fits it (80x24 -> 80x22); into a pipe,
    80 x 22 unless COLUMNS/LINES say otherwise."""
    size = shutil.get_terminal_size((80, 24))
    height = max(MIN_HEIGHT, min(MAX_HEIGHT, size.lines - 2))
    return max(size.columns, 24), height


def _print_charts(charts: list[Any]) -> None:
    from ..charts.canvas import draw
    from ..render.charts import drawing_text

    width, height = chart_size()
    con = console()
    for i, chart in enumerate(charts):
        if i:
            con.print()
        # The notes are extra lines under the plot: give them room rather than squeeze it.
        drawing = draw(chart, width, height + min(len(chart.notes), 6))
        # A terminal's background is unknown here: no band fills (a fill made for a dark
        # background is a dark block on a light one); the dotted band edges show the band.
        con.print(drawing_text(drawing, bands=False), markup=False, highlight=False,
                  crop=True, soft_wrap=False)


def cmd_show(args: Any, ws: Workspace) -> int:
    """``show`` as before; with ``--plot [METRIC]`` the run's charts instead of its tables."""
    if args.plot is None:
        from .browsing import cmd_show as show_tables

        return show_tables(args, ws)
    from ..charts.runs import run_charts
    from .preload import start_statistics_import

    start_statistics_import()  # the anytime charts need scipy: import it while the run loads
    result = ws.store_holding(args.run_id).load(args.run_id)
    charts = run_charts(result, args.plot or None, band=args.band, replicates=args.replicates)
    print(f"run {result.run_id} of {result.experiment}: {result.status}, "
          f"{result.replicates} replicates x {len(result.conditions)} conditions")
    if not charts:
        print("no metric was recorded: no replicate finished")
    _print_charts(charts)
    return EXIT_OK


def cmd_plot(args: Any, ws: Workspace) -> int:
    """One chart of a stored run as an SVG file (or in the terminal without ``-o``); with
    ``--against RUN_B`` the metric in both runs side by side."""
    from ..charts.runs import chart_for

    result = ws.store_holding(args.run_id).load(args.run_id)
    if args.against:
        from ..charts.runs import two_runs

        chart = two_runs(result, ws.store.load(args.against), args.metric)
    else:
        chart = chart_for(result, args.metric, args.kind, band=args.band,
                          replicates=args.replicates)
    if not args.output:
        _print_charts([chart])
        return EXIT_OK
    if not args.output.lower().endswith(".svg"):
        raise ConfigError(f"-o {args.output}: only SVG files are written; name it *.svg")
    from ..charts.svg import to_svg

    text = to_svg(chart, width=args.width, height=args.height)
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:  # a missing folder, a directory, no permission, a full disk
        raise CrystallizeError(f"-o {args.output}: cannot write the file: "
                               f"{exc.strerror or exc}") from None
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_history(args: Any, ws: Workspace) -> int:
    """``history`` as before; with ``--plot METRIC`` the metric's mean and interval per run."""
    if args.plot is None:
        from .history_table import cmd_history as history_table

        return history_table(args, ws)
    from ..charts.runs import history_chart

    ws.experiment(args.name, with_store=False)  # a clear error for a name that does not exist
    records = ws.store.runs(args.name) if ws.store_path.exists() else []
    if not records:
        print(f"no runs of {args.name} in {ws.store_path}")
        return EXIT_OK
    newest = records[:HISTORY_RUNS]
    results = [ws.store.load(r.run_id) for r in reversed(newest)]  # oldest first
    chart = history_chart(results, args.plot, args.condition or "")
    if len(records) > HISTORY_RUNS and is_tty():
        print(f"the newest {HISTORY_RUNS} of {len(records)} runs")
    _print_charts([chart])
    return EXIT_OK
