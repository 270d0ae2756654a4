"""The ``crystallize`` command: subcommands for running and reading experiments; no
arguments starts the terminal UI."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import __version__

# Parsing arguments imports neither the engine, yaml nor importlib.metadata (`--help` stays
# fast); a subcommand's module is imported only once it is chosen.
EXIT_USAGE = 2

EPILOG = """exit codes: 0 success; 1 a replicate failed or a hypothesis could not be evaluated;
2 usage or configuration error; 130 interrupted (Ctrl-C; finished replicates are kept);
141 the reader of the output went away (e.g. `| head`; a run stops, finished replicates are kept)"""


def _common(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # Given before or after the subcommand; a subcommand's absent flag must not reset
    # what was given before it, hence SUPPRESS there.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--root", metavar="DIR", default=default,
                        help="workspace folder holding experiments/ (default: this folder or a parent)")
    parser.add_argument("--store", metavar="PATH", default=default,
                        help="SQLite store file (default: $CRYSTALLIZE_HOME/crystallize.db or "
                             "<workspace>/.crystallize/crystallize.db)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crystallize",
        description="Run stochastic experiments many times and compare conditions honestly. "
                    "With no subcommand, opens the terminal UI on the workspace's experiments.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"crystallize {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, handler: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        _common(p)
        p.set_defaults(handler=handler)
        return p

    listing = command("list", "list the experiments found, with treatments, replicates and last "
                      "run; those that fail to load too (why: on stderr)", "browsing:cmd_list")
    listing.add_argument("--strict", action="store_true",
                         help="exit 2 when an experiment fails to load (default: exit 0 when "
                              "the listing worked)")

    importing = command("import", "convert a crystallize-ml experiment folder (config.yaml) into "
                        "experiment.yaml, listing what needs a hand", "importing:cmd_import")
    importing.add_argument("path", help="the folder holding config.yaml (or the file)")
    run = command("run", "run an experiment: all replicates of the baseline and its treatments",
                  "running:cmd_run")
    run.add_argument("name", help="experiment name (see `crystallize list`)")
    run.add_argument("--replicates", "-n", type=int, metavar="N", help="replicates per condition")
    run.add_argument("--treatment", "-t", action="append", metavar="T",
                     help="run only this treatment (repeatable); the baseline always runs")
    run.add_argument("--set", action="append", metavar="KEY.PATH=VALUE",
                     help="set a config value in every condition; the value is read as YAML")
    run.add_argument("--seed", type=int, help="base seed")
    run.add_argument("--workers", "-w", type=int, metavar="N", help="parallel workers (1: serial)")
    run.add_argument("--backend", "-b", metavar="NAME",
                     help="where replicates run: serial, threads, processes, dask or async "
                          "(default: the experiment's run: section, else serial; -w N > 1 alone: "
                          "processes)")
    run.add_argument("--concurrency", type=int, metavar="N",
                     help="async backend: replicates in flight at once, as tasks of one event "
                          "loop (alone: --backend async)")
    run.add_argument("--dask", nargs="?", const="", metavar="ADDRESS",
                     help="run the replicates on Dask: the scheduler at ADDRESS (tcp://host:8786), "
                          "else a local cluster of -w N processes (needs the [dask] extra)")
    run.add_argument("--resume", action="store_true",
                     help="continue the latest unfinished run of this experiment")
    run.add_argument("--force", action="store_true",
                     help="with --resume: continue even though configs or code changed")
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failed replicate")
    run.add_argument("--with-upstream", action="store_true",
                     help="a chained experiment (datasource: {from: ...}): first run each producer "
                          "with no completed run or changed since its latest one")
    run.add_argument("--until", metavar="RULE",
                     help="stop when decided: 'decided' (every anytime-valid interval excludes 0) "
                          "or 'width=W' (every interval narrower than W); replicates run in "
                          "rounds up to --max-replicates")
    run.add_argument("--max-replicates", type=int, metavar="N",
                     help="with --until: the cap on replicates per condition")
    run.add_argument("--correction", metavar="NAME",
                     help="with --until: across rows 'holm' (default, family-wise), 'bonferroni' "
                          "or 'e-bh' (false discovery rate)")
    run.add_argument("--verbose", "-v", action="store_true", help="show the steps' print output")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.add_argument("--detach", "-d", action="store_true",
                     help="run in a process of its own that outlives this terminal: print the "
                          "run id and return (then: crystallize ps / attach / logs / stop / cancel)")
    run.add_argument("--run-id", help=argparse.SUPPRESS)  # given by --detach to its process
    # Given by the UI to the run process it launches (core/run_process.py): the live channel
    # to the window, and the options it chose as JSON (values exactly, no YAML re-quoting).
    run.add_argument("--channel-fd", type=int, help=argparse.SUPPRESS)
    run.add_argument("--options-json", help=argparse.SUPPRESS)

    confirm = command("confirm", "run the experiment's declared hypotheses again on fresh seeds "
                      "(disjoint from every earlier run's), configs, code and hypotheses locked "
                      "first; exit 0 when every hypothesis is supported, else 1",
                      "confirming:cmd_confirm")
    confirm.add_argument("name", help="experiment name (see `crystallize list`)")
    confirm.add_argument("--replicates", "-n", type=int, metavar="N", help="replicates per condition")
    confirm.add_argument("--treatment", "-t", action="append", metavar="T",
                         help="run only this treatment (repeatable); the baseline always runs")
    confirm.add_argument("--workers", "-w", type=int, metavar="N", help="parallel workers (1: serial)")
    confirm.add_argument("--backend", "-b", metavar="NAME",
                         help="where replicates run: serial, threads, processes, dask or async")
    confirm.add_argument("--verbose", "-v", action="store_true", help="show the steps' print output")
    confirm.add_argument("--json", action="store_true", help="print the result as JSON")
    confirm.add_argument("--detach", "-d", action="store_true",
                         help="run in a process of its own: print the run id and return (then: "
                              "crystallize ps / attach / logs / stop / cancel)")
    confirm.add_argument("--run-id", help=argparse.SUPPRESS)  # given by --detach to its process

    command("ps", "list live runs from every process using the store: progress, pid, "
                 "host (a run whose process is gone reads 'interrupted')", "live:cmd_ps")
    attach = command("attach", "show a live run's progress and output until it ends (exit "
                     "code: its outcome); Ctrl-C detaches and the run goes on", "live:cmd_attach")
    attach.add_argument("run_id", help="run id (see `crystallize ps`)")
    cancel = command("cancel", "cancel a live run cooperatively (finished replicates are kept) "
                     "and wait until it has stopped", "live:cmd_cancel")
    cancel.add_argument("run_id", help="run id (see `crystallize ps`)")
    cancel.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="give up waiting after S seconds (default 30; exit 1)")
    stop = command("stop", "stop a live run at its current look: no new replicate starts, "
                   "running ones finish and are kept; it ends 'stopped: at look' with its "
                   "anytime-valid rows there", "live:cmd_stop")
    stop.add_argument("run_id", help="run id (see `crystallize ps`)")
    stop.add_argument("--timeout", type=float, default=300.0, metavar="S",
                      help="give up waiting after S seconds (default 300; exit 1)")
    logs = command("logs", "print a run's kept output lines", "live:cmd_logs")
    logs.add_argument("run_id", help="run id")
    logs.add_argument("--follow", "-f", action="store_true",
                      help="then print new lines until the run ends")

    once = command("run-once", "debug mode: run one replicate serially, showing every event",
                   "running:cmd_run_once")
    once.add_argument("name", help="experiment name")
    once.add_argument("--treatment", "-t", metavar="T", help="condition to run (default: baseline)")
    once.add_argument("--replicate", "-k", type=int, default=0, metavar="K",
                      help="replicate index: same seed as replicate K of a full run (default 0)")
    once.add_argument("--verbose", "-v", action="store_true",
                      help="also show the config and every step start and finish")

    diff = command("diff", "show how the resolved configs of two conditions differ",
                   "browsing:cmd_diff")
    diff.add_argument("name", help="experiment name")
    diff.add_argument("a", help="condition (baseline or a treatment)")
    diff.add_argument("b", help="condition to compare with")

    history = command("history", "list past runs of an experiment from the store",
                      "plotting:cmd_history")
    history.add_argument("name", help="experiment name")
    history.add_argument("--plot", metavar="METRIC",
                         help="chart METRIC's mean and 95%% CI per run instead of the table")
    history.add_argument("--condition", metavar="C",
                         help="with --plot: the condition charted (default: the baseline)")

    show = command("show", "show one stored run: metrics, statistics, failures", "plotting:cmd_show")
    show.add_argument("run_id", help="run id (see `crystallize history NAME`)")
    show.add_argument("--compare", nargs=2, metavar=("A", "B"),
                      help="compare two conditions (e.g. two treatments): B − A, paired by replicate")
    show.add_argument("--family", choices=("metric", "table"), default="metric",
                      help="what one correction covers: each metric's comparisons (default) or "
                           "every row of the table")
    show.add_argument("--correction", choices=("holm", "bh", "none"), default="holm",
                      help="multiple-comparison correction (default holm)")
    show.add_argument("--json", action="store_true",
                      help="print the run as JSON (as `run --json`: kind, comparison, stop, ...)")
    show.add_argument("--plot", nargs="?", const="", metavar="METRIC",
                      help="draw the run's charts (of METRIC, or of every metric) instead of tables")
    _chart_options(show)

    plot = command("plot", "draw one metric of a stored run: an SVG file with -o, else in the "
                   "terminal", "plotting:cmd_plot")
    plot.add_argument("run_id", help="run id (see `crystallize history NAME`)")
    plot.add_argument("metric", help="metric name")
    plot.add_argument("--output", "-o", metavar="FILE.svg", help="SVG file to write")
    plot.add_argument("--kind", choices=("series", "distribution", "anytime"),
                      help="chart kind (default: series for a metric recorded several times per "
                           "replicate, else distribution)")
    plot.add_argument("--against", metavar="RUN_B",
                      help="draw METRIC of this run and RUN_B side by side, per condition")
    plot.add_argument("--width", type=_pixels, default=720, help="SVG width in px (default 720)")
    plot.add_argument("--height", type=_pixels, default=440, help="SVG height in px (default 440)")
    _chart_options(plot)

    export = command("export", "export one stored run as CSV or JSON", "browsing:cmd_export")
    export.add_argument("run_id", help="run id")
    export.add_argument("--format", "-f", choices=("csv", "json"), default="csv")
    export.add_argument("--output", "-o", metavar="PATH", help="file to write (default: stdout)")
    cache = command("cache", "show what the step cache holds (entries and size per step); "
                    "`cache clear [STEP]` empties it, or one step's entries", "caching:cmd_cache")
    cache.add_argument("action", nargs="?", choices=("clear",), help="clear: remove entries")
    cache.add_argument("step", nargs="?", help="with clear: only this step's entries")
    shots = command("screenshots", "save SVG screenshots of the terminal UI's main screens",
                    "screenshots:cmd_screenshots")
    shots.add_argument("--out", "-o", default="screenshots", metavar="DIR",
                       help="folder to write the SVGs to (default: screenshots)")
    return parser


def _chart_options(parser: argparse.ArgumentParser) -> None:
    """--band and --replicates, shared by ``show --plot`` and ``plot``."""
    parser.add_argument("--band", choices=("iqr", "ci"), default="iqr",
                        help="band around a series' mean curve: interquartile range (default) "
                             "or 95%% confidence interval of the mean")
    parser.add_argument("--replicates", action="store_true",
                        help="also draw each replicate's own curve (series metrics)")


def _pixels(text: str) -> int:
    """An SVG dimension: a whole number of pixels within 200..10000."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of pixels") from None
    if not 200 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"{value} px is outside 200..10000")
    return value


def _handler(spec: str) -> Callable[..., int]:
    """The function named "module:function" in crystallize_tui.commands."""
    import importlib

    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(f".commands.{module}", __package__), function)


def _start_tui(args: Any) -> int:
    from .commands.common import Workspace

    try:
        from .tui.app import run_app
    except ImportError:
        print("crystallize: the terminal UI is not built yet; try `crystallize list` or "
              "`crystallize --help`", file=sys.stderr)
        return 0
    return run_app(Workspace.from_args(args))


def main(argv: list[str] | None = None) -> int:
    # A Ctrl-C typed right after Enter lands while the modules below are still importing:
    # it is an interrupt like any other (130, one line), not a traceback.
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        atexit.register(_ignore_late_ctrl_c)  # registered first, so it runs last
    try:
        code = _main(argv)
    except KeyboardInterrupt:
        code = 130
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while saying so
            _interrupted()
    if main_thread:
        try:
            _exit_at_next_ctrl_c(code)
        except KeyboardInterrupt:  # landed in the few instructions before its handler
            _exit_at_next_ctrl_c(code)
    return code


def _exit_at_next_ctrl_c(code: int) -> None:
    """What is left is Python shutting down (joining threads, closing the store, ~0.1 s):
    a Ctrl-C then ends it with the exit code already decided, not a death by SIGINT after
    the last line was printed, nor a wait for a thread that hangs."""
    # The handler first: a Ctrl-C during the flush below (a long report into a pipe) raised
    # KeyboardInterrupt out of main() as a traceback (tests/test_interrupt_twice.py).
    signal.signal(signal.SIGINT, lambda signum, frame: os._exit(code))
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: its reader has gone anyway
            pass


def _ignore_late_ctrl_c() -> None:
    # After the last exit handler Python resets a handled SIGINT to its default action
    # (death) for the process's last tens of milliseconds; an ignored one it leaves alone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupted() -> int:
    _say("\ninterrupted")
    return 130


def _say(line: str) -> bool:
    """Print ``line`` on stderr; False when its reader has gone (``2>&1 | head``), which
    ends the command quietly as for any closed pipe."""
    try:
        print(line, file=sys.stderr, flush=True)
    except BrokenPipeError as exc:
        from .commands import pipes

        pipes.broken(exc)
        return False
    return True


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .commands import pipes
    from .commands.common import Workspace
    from .core.errors import CrystallizeError

    try:
        if args.command is None:
            return _start_tui(args)
        with pipes.guarded():
            code = _handler(args.handler)(args, Workspace.from_args(args))
    except CrystallizeError as exc:
        if pipes.closed():  # the error is only that the run stopped when the pipe closed
            return pipes.EXIT_PIPE_CLOSED
        return EXIT_USAGE if _say(f"crystallize: error: {exc}") else pipes.EXIT_PIPE_CLOSED
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError as exc:
        pipes.broken(exc)
        return pipes.EXIT_PIPE_CLOSED
    return pipes.EXIT_PIPE_CLOSED if pipes.closed() else code


if __name__ == "__main__":
    sys.exit(main())
