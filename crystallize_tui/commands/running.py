"""``crystallize run`` and ``crystallize run-once``."""

from __future__ import annotations

import json
import math
import shlex
import sys
import textwrap
from typing import Any

from ..core import events as ev
from ..core import interrupts
from ..core.backends import backend_class
from ..core.backends.options import resolve
from ..core.cancel import CancelToken
from ..core.errors import ConfigError
from ..core.experiment import describe
from ..core.hypothesis import metric_bounds_record
from ..core.overrides import apply_overrides, parse_assignment
from ..core.replicate import user_traceback
from ..core.result import ReplicateFailure, Result
from ..core.stopping import check_correction, is_stopped, parse_stop
from ..core.store.follow import cancel_requests
from ..watch.footnotes import anytime_footnotes
from ..watch.live_stats import (
    anytime_family,
    anytime_line,
    anytime_rows,
    result_bounds,
    stop_head,
    stop_lines,
)
from . import pipes
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Workspace, console, is_tty
from .preload import StatisticsPreload
from .progress import BarProgress, PlainProgress


def _with_execution(experiment: Any, backend: str | None, workers: int | None,
                    dask: str | None = None, concurrency: int | None = None) -> None:
    """--backend, --dask [ADDRESS], -w and --concurrency set the run options the experiment's
    defaults give way to (--concurrency alone asks for the async backend)."""
    settings: dict[str, Any] = {"workers": workers}
    if concurrency is not None:
        settings["concurrency"] = concurrency
    if dask is not None:
        if backend not in (None, "dask"):
            raise ConfigError(f"--dask and --backend {backend} ask for two backends; give one")
        backend, settings["address"] = "dask", dask or None  # no address: the experiment's, or local
    if backend is not None or workers is not None or concurrency is not None:
        experiment.execution = resolve(experiment.execution, backend, settings)


def json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def result_document(result: Result) -> dict[str, Any]:
    """The whole result, its comparison and hypothesis verdicts, as plain data."""
    from dataclasses import asdict

    from ..core.export import to_dict

    doc = to_dict(result)
    doc["comparison"] = result.compare().to_rows()
    # Beside each fixed-n row, the anytime-valid result (at the stopping point of a run
    # with a stop rule), so a script can tell "decided" from a p-value read at one look.
    stop = result.stop
    rows = stop["rows"] if stop else [r.as_dict() for r in anytime_rows(result)]
    by_row = {(r["treatment"], r["metric"]): r for r in rows}
    for row in doc["comparison"]:
        found = by_row.get((row.get("treatment"), row.get("metric")))
        row["anytime"] = found["anytime"] if found else "undecided"
        row["anytime_interval"] = [found["lower"], found["upper"]] if found else None
        # The interval's level: the Holm step (or e-BH level) its decision was made at.
        row["anytime_level"] = found.get("level") if found else None
        # Which sequence (bounded in declared bounds, or not) and why, e.g. a value outside them.
        row["anytime_method"] = found.get("method") if found else None
        row["anytime_note"] = found.get("note", "") if found else ""
    doc["anytime_correction"] = anytime_family(result, rows)
    # The experiment's declared bounds the rows used (a hypothesis's are under "hypotheses").
    doc["metric_bounds"] = metric_bounds_record(result.metric_bounds)
    if stop:
        stop = {**stop, "summary": stop_head(stop)}
    doc["stop"] = stop
    doc["hypotheses"] = [
        {**asdict(h.hypothesis), "treatment": h.treatment, "verdict": h.verdict,
         "p_value": h.comparison.p_value, "p_adjusted": h.comparison.p_adjusted,
         "test": h.comparison.test}
        for h in result.hypotheses
    ]
    return json_safe(doc)


def report(result: Result, store_path: Any, out: Any = None, tracebacks: bool = False,
           compare: dict[str, Any] | None = None) -> int:
    """Print the statistics, verdicts and failures of a result; return the exit code.

    With ``tracebacks`` (``crystallize show``) every failure's traceback is printed, each
    distinct one once; otherwise one line per failure and where to find the tracebacks.
    ``compare``: options for ``result.compare`` (``crystallize show --compare A B``)."""
    con = out or console()
    if any(result.metrics[c].metrics for c in result.conditions) and len(result.conditions) > 1:
        con.print(result.compare(**(compare or {})).renderable(con.width))
    elif not any(result.metrics[c].metrics for c in result.conditions):
        con.print("no metrics were recorded")
    verdicts = result.hypotheses
    if verdicts:
        con.print("hypotheses:")
        for v in verdicts:
            style = "green" if v.verdict == "supported" else ("yellow" if v.inconclusive else "")
            con.print(f"  [{style}]{v}[/]" if style else f"  {v}")
    errors = result.errors
    if errors and tracebacks:
        print_tracebacks(errors, con)
    elif errors:
        con.print(f"[red]{len(errors)} replicate(s) failed:[/]")
        for e in errors[:10]:
            con.print(f"  {e.treatment} #{e.replicate} (seed {e.seed}): {e.error}", markup=False)
        if len(errors) > 10:
            con.print(f"  ... and {len(errors) - 10} more")
        con.print(f"full tracebacks: crystallize show {result.run_id}")
    if result.stop:
        for line in stop_lines(result.stop):
            con.print(line, markup=False)
    elif len(result.conditions) > 1 and not compare:
        anytime_report(result, con)
    from .caching import hits_line

    if cached := hits_line(result.run_id, store_path):
        con.print(cached, markup=False)
    con.print(f"run {result.run_id} ({result.status}) stored in {store_path}", markup=False)
    ended = result.complete or is_stopped(result.status)
    failed = bool(errors) or any(v.inconclusive for v in verdicts) or not ended
    return EXIT_FAILED if failed else EXIT_OK


ANYTIME_SHOWN = 12  # rows printed at most; --json carries every one


def anytime_report(result: Result, con: Any) -> None:
    """Beside the fixed-n table, the anytime-valid rows (those of the declared hypotheses'
    metrics, else every row): what still holds for someone who watched the run and would
    have stopped it on a good-looking look."""
    rows = anytime_rows(result)
    named = {h.metric for h in getattr(result, "declared_hypotheses", [])}
    shown = [r for r in rows if not named or r.metric in named]
    if not shown:
        return
    which = (f"; the {len(shown)} of the hypotheses' metrics shown" if len(shown) < len(rows)
             else "")
    con.print(f"anytime-valid (holds at every look, also for a run watched live): "
              f"{anytime_family(result, rows)}{which}", markup=False)
    # Each row marked, what it assumes once below them (rows using one sequence share it).
    marks, notes = anytime_footnotes(shown[:ANYTIME_SHOWN], result_bounds(result))
    for row in shown[:ANYTIME_SHOWN]:
        con.print(f"  {anytime_line(row, assumptions=False)} {marks[(row.treatment, row.metric)]}",
                  markup=False)
    if len(shown) > ANYTIME_SHOWN:
        con.print(f"  ... and {len(shown) - ANYTIME_SHOWN} more: crystallize show "
                  f"{result.run_id} --json", markup=False)
    width = max(40, getattr(con, "width", 80) or 80)
    for note in notes:  # wrapped under its mark, so the mark stands out at 80 columns
        con.print(textwrap.fill(note, width, initial_indent="  ", subsequent_indent="    ",
                                break_on_hyphens=False), markup=False, soft_wrap=True)


def resume_command(args: Any) -> str:
    """The command that continues this run: the same options (a resume with other
    treatments, overrides or seed is refused as a changed experiment) plus --resume."""
    words = ["crystallize", *run_words(args)]
    if not args.resume:
        words.append("--resume")
    if args.force and "--force" not in words:
        words.append("--force")
    return shlex.join(words)


def run_words(args: Any) -> list[str]:
    """The arguments of this ``crystallize run`` (without --detach): what a detached run
    process is started with."""
    from .common import command_words

    words = command_words(args, "run", ("-n", args.replicates))
    for name in args.treatment or []:
        words += ["-t", name]
    for assignment in args.set or []:
        words += ["--set", assignment]
    if args.seed is not None:
        words += ["--seed", str(args.seed)]
    if getattr(args, "with_upstream", False):
        words.append("--with-upstream")
    if args.workers is not None:
        words += ["-w", str(args.workers)]
    if getattr(args, "backend", None) is not None:
        words += ["--backend", args.backend]
    if getattr(args, "concurrency", None) is not None:
        words += ["--concurrency", str(args.concurrency)]
    if getattr(args, "dask", None) is not None:
        words += ["--dask", args.dask] if args.dask else ["--dask"]
    if getattr(args, "until", None) is not None:
        words += ["--until", args.until]
    if getattr(args, "max_replicates", None) is not None:
        words += ["--max-replicates", str(args.max_replicates)]
    if getattr(args, "correction", None) is not None:
        words += ["--correction", args.correction]
    words += [flag for flag, on in (("--fail-fast", args.fail_fast), ("-v", args.verbose),
                                    ("--json", args.json), ("--resume", args.resume),
                                    ("--force", args.force)) if on]
    return words


def print_tracebacks(errors: list[ReplicateFailure], con: Any) -> None:
    """Each distinct traceback once, under the replicates that raised it (a bug usually
    fails every replicate the same way; a thousand copies would hide the one that differs)."""
    groups: dict[str, list[ReplicateFailure]] = {}
    for e in errors:
        groups.setdefault(e.traceback.rstrip() or e.error, []).append(e)
    con.print(f"[red]{len(errors)} replicate(s) failed[/]"
              + (f" ({len(groups)} distinct tracebacks):" if len(groups) > 1 else ":"))
    for text, failures in groups.items():
        named = [f"{e.treatment} #{e.replicate} (seed {e.seed})" for e in failures[:5]]
        more = f" and {len(failures) - 5} more" if len(failures) > 5 else ""
        con.print(f"\n{', '.join(named)}{more}:", markup=False)
        con.print(text, markup=False)
    con.print()


def check_resume(args: Any, ws: Workspace) -> None:
    """--force and --resume make sense only together, and only with a run to continue."""
    if args.force and not args.resume:
        raise ConfigError("--force only applies with --resume (it resumes a run whose experiment "
                          "changed); a run without --resume always starts afresh")
    if not args.resume:
        return
    runs = ws.store.runs(args.name) if ws.store_path.exists() else []
    if not runs:
        raise ConfigError(f"nothing to resume: no run of {args.name!r} in {ws.store_path}; "
                          "run without --resume to start one")
    if is_stopped(runs[0].status):
        raise ConfigError(f"nothing to resume: the latest run of {args.name!r}, {runs[0].run_id}, "
                          f"{runs[0].status}; run without --resume to start a new one")
    if runs[0].status == "completed":
        raise ConfigError(f"nothing to resume: the latest run of {args.name!r}, {runs[0].run_id}, "
                          "completed; run without --resume to start a new one")


def reporting_to_window(command: Any) -> Any:
    """With ``--channel-fd`` (a run process the UI launched, core/run_process.py): the
    options come as JSON, and a failure is sent to the window before it is raised."""
    import functools

    from ..core.run_process import WindowChannel, read_options

    @functools.wraps(command)
    def run(args: Any, ws: Workspace) -> int:
        args.window = window = WindowChannel(getattr(args, "channel_fd", None))
        args.window_overrides = {}
        if not window:
            return command(args, ws)
        try:
            options = read_options(args.options_json or "{}")
            args.treatment = options.get("treatments")
            args.window_overrides = options.get("overrides") or {}
            for key in ("replicates", "seed", "workers", "backend", "resume", "force", "until",
                        "max_replicates", "correction", "confirm", "with_upstream",
                        "resume_upstream"):
                setattr(args, key, options.get(key, getattr(args, key, None)))
            return command(args, ws)
        except BaseException as exc:
            window.failed(exc)
            raise

    return run


@interrupts.guarded  # Ctrl-C from store creation to the report: a clean cancel, exit 130
@reporting_to_window
def cmd_run(args: Any, ws: Workspace) -> int:
    if getattr(args, "backend", None) is not None:
        backend_class(args.backend)  # an unknown name fails here, also before --detach
    # A bad rule fails here, also before --detach.
    until, correction = getattr(args, "until", None), getattr(args, "correction", None)
    if correction is not None:
        check_correction(correction)
    rule = parse_stop(until, getattr(args, "max_replicates", None),
                      correction if until is not None else None)
    if getattr(args, "detach", False):
        from .live import start_detached

        return start_detached(args, ws, run_words(args))
    experiment = ws.experiment(args.name)
    check_resume(args, ws)
    _with_execution(experiment, getattr(args, "backend", None), args.workers, getattr(args, "dask", None),
                    getattr(args, "concurrency", None))
    overrides = dict(parse_assignment(text) for text in args.set or [])
    overrides.update(args.window_overrides)  # values as the UI parsed them
    conditions = [c for c in experiment.conditions
                  if not args.treatment or c == "baseline" or c in args.treatment]
    for name in args.treatment or []:
        experiment.config_for(name)  # unknown names fail here, before any output
    if overrides:
        apply_overrides(experiment.resolve_configs(conditions), overrides)
    _keep_fork(experiment)  # before the cancel poller's (or a chain's) thread starts
    chain = None
    if getattr(args, "with_upstream", False):  # once the options are checked: stale producers first
        from ..core.chain_process import Chain

        chain = Chain(ws.store, args.window)
        with chain.watching():
            try:
                chain.run_upstream(experiment, ws.experiment,
                                   lambda line: print(line, file=sys.stderr),
                                   resume=bool(getattr(args, "resume_upstream", False)))
            except ConfigError as exc:
                if not args.window:
                    raise
                chain.stopped(exc)  # the window says it; the consumer does not start
                return EXIT_INTERRUPTED if chain.cancelled.is_set() else EXIT_FAILED
    per_condition = args.replicates or experiment.replicates
    if rule is not None and rule.max_replicates is not None:
        per_condition = rule.max_replicates
    show_bar = is_tty() and not args.json
    reporter = (BarProgress if show_bar else PlainProgress)(conditions, per_condition)
    subscribers: list[Any] = [StatisticsPreload()] + ([] if args.json else [reporter])
    if args.window:  # the UI shows the statistics; every event goes to it
        subscribers = [reporter, *args.window.subscribers()]
    try:
        with (reporter if not args.json else _Nothing(), pipes.when_closed(experiment.cancel),
              chain.watching() if chain is not None else _Nothing(),  # a cancel of a producer's run
              cancel_requests(ws.store, experiment.cancel,  # `crystallize cancel RUN_ID`
                              stop=experiment.stop)):  # `crystallize stop RUN_ID`
            # A confirmatory run from the UI (its confirm dialog): fresh seeds, locked first,
            # as `crystallize confirm` runs it; a resume of one keeps its seeds (run --resume).
            confirm = getattr(args, "confirm", False) and not args.resume
            result = (experiment.confirm if confirm else experiment.run)(
                run_id=getattr(args, "run_id", None),
                replicates=args.replicates, treatments=args.treatment, seed=args.seed,
                resume=args.resume, force=args.force, echo=args.verbose and not args.json,
                overrides=overrides, fail_fast=True if args.fail_fast else None,
                subscribers=subscribers, stop=rule,
                # --correction alone: for the stop rule experiment.yaml declares
                correction=correction if rule is None else None,
            )
    except KeyboardInterrupt:
        partial = experiment.last_result
        kept = len(partial.replicate_results) if partial else 0
        print(f"\ncancelled: {kept} finished replicate(s) kept in {ws.store_path}; continue with "
              f"`{resume_command(args)}`", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.window:
        args.window.finished(result)
        return EXIT_FAILED if result.errors or not result.complete else EXIT_OK
    if args.json:
        result.kind = ws.store.run_row(result.run_id).get("kind") or result.kind  # a resumed confirm
        json.dump(result_document(result), sys.stdout, indent=2)
        sys.stdout.write("\n")
        failed = result.errors or any(h.inconclusive for h in result.hypotheses)
        return EXIT_FAILED if failed or not (result.complete or is_stopped(result.status)) else EXIT_OK
    code = report(result, ws.store_path)
    _confirmatory_lines(ws, result.run_id, experiment)
    return code


def _confirmatory_lines(ws: Workspace, run_id: str, experiment: Any) -> None:
    """A resumed confirmatory run's report says so, and what changed since its lock."""
    from ..core.confirm import CONFIRMATORY, describe_run

    row = ws.store.run_row(run_id)
    if row.get("kind") == CONFIRMATORY:
        con = console()
        for line in describe_run(row, experiment):
            con.print(line, markup=False)


def _keep_fork(experiment: Any) -> None:
    """Process workers fork only while the process has one thread (else they spawn, which
    is slower and needs an import guard in scripts); the thread that polls for a
    `crystallize cancel` must not change that choice, so it is made now."""
    import multiprocessing
    import threading

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return
    execution = experiment.execution
    if execution["backend"] == "processes" and execution.get("start_method") is None:
        experiment.execution = {**execution, "start_method": "fork"}


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


class _Printer:
    """run-once's view of the events: everything with --verbose, else what the step says."""

    QUIET = (ev.UserEvent, ev.MetricRecorded, ev.ArtifactSaved, ev.ReplicateStarted)

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def __call__(self, event: ev.Event) -> None:
        if self.verbose or isinstance(event, self.QUIET):
            line = describe(event)
            if line:
                print(line, flush=True)


def _check_replicate_index(k: int) -> None:
    """-k names one replicate of a run: a run has at most MAX_REPLICATES per condition."""
    from ..core.plan import MAX_REPLICATES

    if not 0 <= k < MAX_REPLICATES:
        raise ConfigError(f"-k {k}: the replicate index must be between 0 and "
                          f"{MAX_REPLICATES - 1:,} (a run has at most {MAX_REPLICATES:,} "
                          "replicates per condition)")


def cmd_run_once(args: Any, ws: Workspace) -> int:
    _check_replicate_index(args.replicate)
    experiment = ws.experiment(args.name)
    treatment = args.treatment or "baseline"
    if args.replicate >= experiment.replicates:
        # Not an error: replicate K of a run with -n above K has this seed.
        print(f"note: {args.name} runs {experiment.replicates} replicates (0-"
              f"{experiment.replicates - 1}); replicate {args.replicate} is the one a run with "
              f"-n {args.replicate + 1} or more would have", file=sys.stderr)
    if args.verbose:
        config = experiment.config_for(treatment)
        print(f"config of {treatment}: {json.dumps(config, default=repr)}")
    unsubscribe = experiment.subscribe(_Printer(args.verbose))
    # The signal handler cancels every guarded token on the user's Ctrl-C: a
    # KeyboardInterrupt with this token unset was raised by the step itself.
    ctrl_c = CancelToken()
    try:
        with interrupts.guard(ctrl_c), pipes.when_closed(experiment.cancel):
            rep = experiment.debug(treatment=treatment, replicate=args.replicate, verbose=False)
    except ConfigError:
        raise
    except KeyboardInterrupt as exc:
        if not ctrl_c.cancelled:
            return _failed(treatment, args.replicate, exc)
        print("\ncancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (Exception, SystemExit) as exc:  # debug() passes the step's exception on as it is
        return _failed(treatment, args.replicate, exc)
    finally:
        unsubscribe()
    shown = ", ".join(f"{k}={v!r}" for k, v in rep.metrics.items()) or "no metrics"
    print(f"{treatment} #{args.replicate} (seed {rep.seed}) finished in {rep.duration:.3f}s: {shown}")
    return EXIT_OK


def _failed(treatment: str, k: int, exc: BaseException) -> int:
    """A failed replicate, as a full run records it: the step's traceback, exit 1 (a
    SystemExit or KeyboardInterrupt the step raised fails only the replicate)."""
    sys.stderr.write(user_traceback(exc))
    sys.stderr.write(f"\n{treatment} #{k} failed: {type(exc).__name__}: {exc}\n")
    return EXIT_FAILED
