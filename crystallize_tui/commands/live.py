"""``crystallize run --detach``, ``ps``, ``attach``, ``cancel``, ``stop`` and ``logs``: a run in its own
process, and views that read it live from the store (the run process is its only writer)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..core.confirm import CONFIRMATORY
from ..core.errors import ConfigError, StoreError
from ..core.stopping import is_stopped
from ..core.store.attach import AttachedRun
from ..core.store.follow import POLL_S, RunFollower, Snapshot
from ..core.store.recorder import MAX_EVENTS_ENV, MAX_EVENTS_PER_RUN
from ..core.store.store import unchecked_note
from ..watch.format import failure_line, stored_line, stored_lines
from ..watch.live_stats import LiveStatistics, anytime_line, stop_lines, stored_correction
from ..watch.progress import ETA_NOTE, ProgressSnapshot, clock
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Workspace, console, is_tty

LAST_LINES = 20  # output lines a late watcher is shown before the live tail
STARTUP_TIMEOUT_S = 60.0  # a run process that has not recorded its run by then is reported
CANCEL_TIMEOUT_S = 30.0
EXIT_BY_STATUS = {"completed": EXIT_OK, "cancelled": EXIT_INTERRUPTED}


def new_run_id() -> str:
    """A run id in the engine's format (time, then 6 random hex digits)."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def log_path(ws: Workspace, run_id: str) -> Path:
    """Where a detached run process's own stdout/stderr go (a crash before the run is
    recorded, or a segfault message, is read there); its output lines are in the store."""
    return ws.store_path.parent / "logs" / f"{run_id}.log"


def start_detached(args: Any, ws: Workspace, words: list[str]) -> int:
    """Start ``crystallize run`` (``words``) in its own process and session, print the run id
    once the process has recorded the run, and return."""
    from .running import check_resume

    if hasattr(args, "resume"):  # `confirm --detach` has no --resume
        check_resume(args, ws)
    resume = getattr(args, "resume", False)
    run_id = ws.store.runs(args.name)[0].run_id if resume else new_run_id()
    chain = getattr(args, "with_upstream", False)
    launched = time.time()
    log = log_path(ws, run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        # Own session: the terminal's hangup and Ctrl-C do not reach it; no stdin, and its
        # stdout/stderr are a file, so a closed terminal cannot fail its writes either.
        proc = subprocess.Popen(
            [sys.executable, "-m", "crystallize_tui.cli", *words, "--run-id", run_id],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    # A chain (--with-upstream) records its stale producers' runs first: any run of the
    # process will do (the consumer's may be hours away).
    def recorded() -> str | None:
        if chain:
            return _first_run_of(ws, proc.pid, launched)
        return run_id if _recorded_by(ws, run_id, proc.pid) else None

    while (first := recorded()) is None:
        code = proc.poll()
        if code is not None and recorded() is None:
            sys.stderr.write(_tail(log))
            print(f"crystallize: the run process exited ({code}) before recording run "
                  f"{run_id}; its output is in {log}", file=sys.stderr)
            return code or EXIT_FAILED
        if time.monotonic() > deadline:
            print(f"crystallize: run {run_id} not recorded {STARTUP_TIMEOUT_S:.0f}s after its "
                  f"process {proc.pid} started; see {log}", file=sys.stderr)
            return EXIT_FAILED
        time.sleep(0.02)
    print(run_id, flush=True)
    if first != run_id:  # the chain's first producer run: say which to attach to now
        producer = ws.store.run_row(first)["experiment"]
        print(f"upstream {producer} runs first as run {first} in process {proc.pid} "
              f"(crystallize attach {first}; crystallize cancel {first} stops the chain); then "
              f"{args.name} as run {run_id} (attach to it once it has started: it is not "
              f"recorded before); output of the chain's process in {log}", file=sys.stderr)
        return EXIT_OK
    print(f"run {run_id} of {args.name} goes on in process {proc.pid}: crystallize attach "
          f"{run_id} · crystallize cancel {run_id} · output of the process in {log}",
          file=sys.stderr)
    return EXIT_OK


def _first_run_of(ws: Workspace, pid: int, since: float) -> str | None:
    """The first run process ``pid`` recorded (started at ``since`` or later), or None yet."""
    if not ws.store_path.exists():
        return None
    try:
        fresh = [r for r in ws.store.runs() if r.started_at >= since - 1]
        mine = [r for r in fresh if ws.store.run_row(r.run_id)["pid"] == pid]
    except StoreError:
        return None
    return mine[-1].run_id if mine else None  # runs() is newest first


def _recorded_by(ws: Workspace, run_id: str, pid: int) -> bool:
    if not ws.store_path.exists():
        return False
    try:
        return ws.store.run_row(run_id)["pid"] == pid
    except StoreError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "".join(f"{line}\n" for line in text)


def _when(timestamp: float | None) -> str:
    return "—" if timestamp is None else dt.datetime.fromtimestamp(timestamp).strftime(
        "%Y-%m-%d %H:%M:%S")


def progress_text(progress: ProgressSnapshot) -> str:
    """"baseline 3/10 · fast 2/10 (1 failed)": finished replicates per condition (failed
    ones included in the first figure), from the one progress reducer."""
    parts = []
    for c in progress.conditions:
        extra = f" ({c.failed} failed)" if c.failed else ""
        parts.append(f"{c.condition} {c.done}/{c.total}{extra}")
    return " · ".join(parts)


def eta_text(progress: ProgressSnapshot) -> str:
    """The run's ETA (its slowest condition's), "—" while it cannot be estimated."""
    etas = [c.eta for c in progress.conditions]
    if progress.ended or not etas or any(e is None for e in etas):
        return "—"
    return clock(max(e for e in etas if e is not None))


def progress_line(progress: ProgressSnapshot) -> str:
    """What attach prints when the counts change: per condition, then elapsed and ETA."""
    return (f"{progress_text(progress)} · elapsed {clock(progress.elapsed)} · "
            f"ETA {eta_text(progress)}")


def _reading_store(ws: Workspace) -> Any:
    """The store to read runs from; a missing file is not created."""
    if not ws.store_path.exists():
        raise StoreError(f"store {ws.store_path}: there is no such file, no run was recorded "
                         "there")
    return ws.store


def cmd_ps(args: Any, ws: Workspace) -> int:
    """Live runs from every process using the store (and runs whose process is gone). A run
    recorded on another machine cannot be checked by pid here: it shows as running with
    "(other host: not checked)"; one of this machine whose process is gone, "interrupted"."""
    if not ws.store_path.exists():
        print("no live runs (no store yet at " + str(ws.store_path) + ")")
        return EXIT_OK
    store = ws.store
    live = [r for r in store.runs() if r.status in ("running", "interrupted")]
    if not live:
        print("no live runs")
        return EXIT_OK
    header = ("run id", "experiment", "status", "progress", "elapsed", "ETA", "started", "pid", "host")
    rows = []
    for record in live:
        row = store.run_row(record.run_id)
        progress = store.attach(record.run_id).progress
        status = record.status
        if (note := unchecked_note(status, row["host"])) is not None:
            status = f"{status} ({note})"
        if record.kind == CONFIRMATORY:
            status = f"{status} · {CONFIRMATORY}"
        rows.append((record.run_id, record.experiment, status,
                     progress_text(progress), clock(progress.elapsed), eta_text(progress),
                     _when(record.started_at), str(row["pid"] or "—"), row["host"] or "—"))
    if is_tty():  # a person reads it: aligned columns, as history prints them
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        for name in header:
            table.add_column(name)
        for cells in rows:
            table.add_row(*cells)
        console().print(table)
    else:  # a script reads it: one tab-separated line per run
        for cells in (header, *rows):
            print("\t".join(cells))
    print(ETA_NOTE, file=sys.stderr)
    return EXIT_OK


def dropped_note(snapshot: Snapshot) -> str | None:
    """"… 12,345 earlier lines not kept" when the store kept only a run's newest lines."""
    if not snapshot.dropped:
        return None
    # The bound is the run process's ($CRYSTALLIZE_MAX_OUTPUT_LINES there), not ours.
    return (f"… {snapshot.dropped:,} earlier line{'s' if snapshot.dropped != 1 else ''} not "
            f"kept (a run keeps its last ${MAX_EVENTS_ENV} lines, default "
            f"{MAX_EVENTS_PER_RUN:,})")


def _print_rows(snapshot: Snapshot) -> None:
    for row in snapshot.rows:
        line = stored_line(row)
        if line is not None:
            print(line.text, flush=False)
    for condition, replicate, error in snapshot.failures:
        print(failure_line(condition, replicate, error).text, flush=False)
    sys.stdout.flush()


def final_line(run: AttachedRun) -> tuple[str, int]:
    """The status line a watcher ends with, and the exit code of the run's outcome."""
    status, progress = run.status, run.progress
    code = EXIT_OK if is_stopped(status) else EXIT_BY_STATUS.get(status, EXIT_FAILED)
    if code == EXIT_OK and progress.failed:
        code = EXIT_FAILED
    return (f"run {run.run_id} {status}: {progress.done - progress.failed} replicate(s) ok, "
            f"{progress.failed} failed ({progress_text(progress)})", code)


def _follow(follower: RunFollower, first: Snapshot, run: AttachedRun | None = None) -> None:
    """Print new lines (and, given ``run``, its progress when the counts change) until the
    run is no longer running."""
    snapshot, shown = first, first.counts
    while snapshot.running:
        time.sleep(POLL_S)
        snapshot = follower.poll()
        _print_rows(snapshot)
        if run is not None and snapshot.counts != shown:
            shown = snapshot.counts
            print(f"progress: {progress_line(run.progress)}", flush=True)


def cmd_attach(args: Any, ws: Workspace) -> int:
    """The run's state, then its live output and progress until it ends; Ctrl-C detaches."""
    store = _reading_store(ws)
    run = store.attach(args.run_id)
    follower = RunFollower(store, args.run_id)
    try:
        first = follower.poll(last=LAST_LINES)
        where = f"process {first.pid} on {first.host}" if first.pid else "unknown process"
        kind = f" · {CONFIRMATORY}" if store.run_row(args.run_id).get("kind") == CONFIRMATORY else ""
        print(f"run {args.run_id}: {first.status}{kind} ({where})")
        print(f"progress: {progress_line(run.progress)}")
        if first.running:
            _print_live_statistics(store, args.run_id)
        if (note := dropped_note(first)) is not None:
            print(note)
        _print_rows(first)
        _follow(follower, first, run)
    except KeyboardInterrupt:
        print(f"\ndetached: run {args.run_id} goes on; attach again with `crystallize attach "
              f"{args.run_id}`", file=sys.stderr)
        return EXIT_OK
    text, code = final_line(run)
    _print_final_statistics(store, args.run_id)
    print(text, flush=True)
    return code


def _print_live_statistics(store: Any, run_id: str) -> None:
    """The comparison over the replicates done so far in every condition, with what it
    assumes (a late watcher sees where the run stands, not a verdict)."""
    from .common import console

    row = store.run_row(run_id)
    live = LiveStatistics(row["experiment"], json.loads(row["conditions"]), int(row["base_seed"]),
                          stored_correction(row.get("stop")),  # the run's own rule decides
                          row.get("hypotheses"),  # and its declared bounds
                          row.get("metric_bounds"))
    if not live.comparable:
        return
    live.add_stored(run_id, store.replicates(run_id))
    now = live.anytime()
    if now.replicates == 0:
        return
    con = console()
    # The anytime-valid rows, never a fixed-n p-value read mid-run (see watch/live_stats.py).
    for row in now.rows:
        con.print(anytime_line(row), markup=False)
    con.print(now.note, markup=False)


def _print_final_statistics(store: Any, run_id: str) -> None:
    """The run's final comparison, as ``crystallize run`` ends with (nothing for one condition)."""
    from .common import console

    try:
        result = store.load(run_id)
    except StoreError:
        return
    if len(result.conditions) > 1 and any(result.metrics[c].metrics for c in result.conditions):
        con = console()
        con.print(result.compare().renderable(con.width))
    if result.stop:
        for line in stop_lines(result.stop):
            print(line)


def cmd_logs(args: Any, ws: Workspace) -> int:
    """A run's kept output lines; with -f, then the new ones until the run ends."""
    follower = RunFollower(_reading_store(ws), args.run_id)
    first = follower.poll()
    if (note := dropped_note(first)) is not None:
        print(note)
    # Each failed replicate's line after that replicate's own output, as the live run had it.
    for line in stored_lines(first.rows, first.failures):
        print(line.text, flush=False)
    sys.stdout.flush()
    if not args.follow:
        return EXIT_OK
    try:
        _follow(follower, first)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def cmd_cancel(args: Any, ws: Workspace) -> int:
    """Ask the run's process to cancel (cooperatively) and wait until the run has stopped."""
    return _ask_and_wait(args, ws, "cancel")


def cmd_stop(args: Any, ws: Workspace) -> int:
    """Ask the run's process to stop at its current look (no new replicate starts, running
    ones finish and are kept: "stopped: at look") and wait until the run has ended."""
    return _ask_and_wait(args, ws, "stop")


def _ask_and_wait(args: Any, ws: Workspace, what: str) -> int:
    store = _reading_store(ws)
    status, _, pid = store.live_status(args.run_id)
    if status != "running":
        print(f"run {args.run_id} is not running ({status}); nothing to {what}")
        return EXIT_OK
    if args.timeout <= 0:
        raise ConfigError(f"--timeout {args.timeout}: must be more than 0 seconds")
    run = store.attach(args.run_id)
    if what == "stop":
        run.stop()
        print(f"stop requested: run {args.run_id} (process {pid}) starts no new replicate; "
              "running ones finish and are kept", file=sys.stderr, flush=True)
        why = "the running replicates are still going; `crystallize cancel` stops them"
    else:
        run.cancel()
        print(f"cancel requested: run {args.run_id} (process {pid}) stops at its next "
              "cancellation point; finished replicates are kept", file=sys.stderr, flush=True)
        why = "a step that never reaches a cancellation point?"
    deadline = time.monotonic() + args.timeout
    while run.status == "running":
        if time.monotonic() > deadline:
            print(f"crystallize: run {args.run_id} still running {args.timeout:g}s after the "
                  f"{what} request ({why}); `kill {pid}` stops its process", file=sys.stderr)
            return EXIT_FAILED
        time.sleep(POLL_S / 2)
    print(final_line(run)[0])
    stop = store.run_row(args.run_id).get("stop")
    if what == "stop" and stop and is_stopped(run.status):
        for line in stop_lines(json.loads(stop)):
            print(line)
    return EXIT_OK
