"""The run store: every run, replicate, metric value, artifact and a bounded event log in SQLite."""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreError, StoreLostError
from ..hypothesis import Hypothesis, stored_metric_bounds
from ..result import ReplicateResult, Result
from . import opening, schema
from .opening import BUSY_TIMEOUT_S

if TYPE_CHECKING:
    from .attach import AttachedRun

HOME_ENV = "CRYSTALLIZE_HOME"
FILE_NAME = "crystallize.db"


def workspace_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding ``experiments/`` (this folder or a parent), else ``start``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "experiments").is_dir():
            return folder
    return here


def default_store_path(root: str | os.PathLike[str] | None = None) -> Path:
    """``$CRYSTALLIZE_HOME/crystallize.db`` if set, else ``<workspace>/.crystallize/crystallize.db``."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / FILE_NAME
    return workspace_root(root) / ".crystallize" / FILE_NAME


@dataclass(frozen=True)
class RunRecord:
    """One row of ``Store.runs()``."""

    run_id: str
    experiment: str
    status: str
    started_at: float
    finished_at: float | None
    base_seed: int
    replicates: int
    conditions: list[str]
    ok: int
    failed: int
    fingerprint: str
    resumes: int
    kind: str = "exploratory"  # or "confirmatory" (core/confirm.py)
    seed_stream: int = 0

    @property
    def total(self) -> int:
        return self.replicates * len(self.conditions)


# SQLite's INTEGER is 64-bit signed; larger Python ints are kept exactly as decimal text.
_INT64 = range(-(2**63), 2**63)


def _encode(value: Any) -> tuple[Any, str]:
    if isinstance(value, bool):
        return int(value), "b"
    if isinstance(value, int):
        return (value, "i") if value in _INT64 else (str(value), "I")
    if math.isnan(value):
        return None, "n"
    return value, "f"


def _decode(value: Any, kind: str) -> Any:
    if kind == "b":
        return bool(value)
    if kind == "n":
        return math.nan
    if kind == "f":
        return float(value)
    if kind == "I":
        return int(value)
    return value


def _live_status(status: str, host: str | None, pid: int | None) -> str:
    """"running" for a run whose process on this machine is gone reads "interrupted"
    (killed, crashed, or the machine restarted): it will not finish by itself."""
    if status != "running" or pid is None or host != socket.gethostname():
        return status
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "interrupted"
    except PermissionError:
        pass
    return "interrupted" if _zombie(pid) else status


def unchecked_note(status: str, host: str | None) -> str | None:
    """Why a "running" run cannot be checked from here (its process is on another machine,
    or the row names none): ps shows it as running with this note rather than guessing."""
    if status != "running" or host == socket.gethostname():
        return None
    return "other host: not checked" if host else "host unknown: not checked"


def _zombie(pid: int) -> bool:
    """A dead process not yet reaped by its parent (a killed run process whose parent lives
    on) still answers kill(pid, 0); Linux's /proc says it is a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


class Store:
    """A Crystallize run store in one SQLite file (WAL mode, busy timeout).

    Safe to share between threads (each thread gets its own connection) and between
    processes (writers queue on SQLite's lock instead of failing).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Why writes are refused (set when this process may only read the file).
        self.read_only: str | None = None
        self._validated = False  # checked for damage, so it may be written
        self._identity: tuple[int, int] | None = None
        self._recording: set[str] = set()  # runs this process is recording now
        self._open_checked()

    # -- connections --------------------------------------------------------------
    def _open_checked(self) -> None:
        """Check what the file is and whether we may write it before changing anything."""
        if self.path.is_dir():
            raise StoreError(f"store {self.path}: is a folder, expected a database file")
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists and (problem := opening.read_problem(self.path)):
            raise StoreError(f"store {self.path}: {problem}; fix its permissions or pass "
                             "another --store")
        self.read_only = opening.write_problem(self.path)
        current = self._inspect() if exists else None
        if current is not None and current > schema.SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path}: written by a newer Crystallize (schema {current}, this "
                f"version reads up to {schema.SCHEMA_VERSION}); upgrade crystallize-tui"
            )
        if self.read_only and not exists:
            raise StoreError(f"store {self.path}: cannot create it: {self.read_only}; "
                             "pass another --store")
        if self.read_only and (current is None or current < schema.SCHEMA_VERSION):
            raise StoreError(f"store {self.path}: needs setting up (schema "
                             f"{schema.SCHEMA_VERSION}), but {self.read_only}")
        if current is None or current < schema.SCHEMA_VERSION:
            if exists:
                self._check_damage(self._conn())  # before the migration writes to it
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            self._retry(lambda: schema.migrate(conn, current))
            self._validated = True
        self._identity = opening.identity(self.path)

    def _inspect(self) -> int | None:
        """The schema version of an existing file, read without writing to it."""
        try:
            conn = opening.connect_read_only(self.path)
        except sqlite3.OperationalError as exc:
            if not self.read_only:
                raise StoreError(f"store {self.path}: cannot open ({exc})") from None
            raise StoreError(f"store {self.path}: cannot read it: {exc}; {self.read_only}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"store {self.path}: not a readable SQLite database ({exc}); "
                             "nothing was changed — move it away or pass another --store") from None
        try:
            return schema.stored_version(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"store {self.path}: not a readable SQLite database ({exc}); "
                             "nothing was changed — move it away or pass another --store") from None
        except ValueError as exc:
            raise StoreError(f"store {self.path}: not a Crystallize store: {exc}; "
                             "nothing was changed — pass another --store") from None
        finally:
            conn.close()

    def verify(self) -> None:
        """Raise StoreError if the file is damaged. A read of every page: for a reader about
        to trust a whole run (show, export), where a damaged page would silently cut rows."""
        self._check_damage(self._conn())

    def _check_damage(self, conn: sqlite3.Connection) -> None:
        try:
            problem = opening.damage(conn)
        except sqlite3.DatabaseError as exc:
            problem = str(exc)
        if problem:
            raise StoreError(self._damaged(problem))

    def _damaged(self, problem: str) -> str:
        return (f"store {self.path}: the file is damaged ({problem}); nothing was changed — "
                f"move it away (`sqlite3 {self.path} .recover` may save its runs) or pass "
                "another --store")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                if self.read_only:
                    conn = opening.connect_read_only(self.path)
                else:
                    # No journal-mode switch here: that is a write, made only after the
                    # damage check (see _writable).
                    conn = sqlite3.connect(
                        self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                        check_same_thread=False,
                    )
                    conn.execute("PRAGMA synchronous = NORMAL")
                    # Checkpoint (and fsync) every 16 MiB of WAL rather than 4 MiB: each commit
                    # stays as durable, and a run of small replicates spends ~20% less time.
                    conn.execute("PRAGMA wal_autocheckpoint = 4096")
                    conn.execute("PRAGMA foreign_keys = ON")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"store {self.path}: cannot open ({exc})") from None
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _writable(
        self, run_id: str, *, new_run: bool = False, ending: bool = False,
    ) -> sqlite3.Connection:
        """The connection to write with, once the file is known to be sound and still there."""
        if self.read_only:
            raise StoreError(f"store {self.path}: read-only: {self.read_only}; runs cannot be "
                             "recorded in it — fix the permissions or pass another --store")
        now = opening.identity(self.path)
        if now != self._identity:
            if not new_run:
                what = "deleted" if now is None else "replaced by another file"
                if ending:  # every replicate was committed, then the file went
                    raise StoreLostError(
                        f"store {self.path}: the file was {what} as run {run_id} ended, after "
                        "its replicates were recorded; they are gone with it — run it again "
                        "to record it"
                    )
                raise StoreLostError(
                    f"store {self.path}: the file was {what} while run {run_id} was being "
                    "recorded; the replicates it held are gone with it, so the run stopped "
                    "— run it again to record it"
                )
            # Deleted between runs (a fresh start): begin a new store file.
            self.close()
            self._validated = False
            self._open_checked()
        conn = self._conn()
        if not self._validated:
            self._check_damage(conn)
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            self._validated = True
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _retry(self, fn: Any) -> Any:
        """Run ``fn``, waiting out another process's lock beyond SQLite's own timeout."""
        deadline = time.monotonic() + 4 * BUSY_TIMEOUT_S
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise StoreError(f"store {self.path}: {exc}") from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                if opening.is_damage(exc):
                    raise StoreError(self._damaged(str(exc))) from None
                raise StoreError(f"store {self.path}: {exc}") from None

    @contextmanager
    def _write(
        self, run_id: str, *, new_run: bool = False, ending: bool = False,
    ) -> Iterator[sqlite3.Connection]:
        conn = self._writable(run_id, new_run=new_run, ending=ending)
        self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield conn
        except sqlite3.DatabaseError as exc:  # e.g. a damaged or hand-edited file
            conn.execute("ROLLBACK")
            raise StoreError(f"store {self.path}: {exc}") from None
        except OverflowError as exc:  # an int beyond SQLite's 64 bits reached a column
            conn.execute("ROLLBACK")
            raise StoreError(f"store {self.path}: {exc}") from None
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._retry(lambda: conn.execute("COMMIT"))

    # -- writing ------------------------------------------------------------------
    def begin_run(self, row: dict[str, Any]) -> None:
        """Insert a new run (status "running"). A confirmatory run's seed stream must be
        one no other run of the experiment holds: checked here, in the insert's transaction,
        since two confirm commands started together choose their stream at the same time."""
        with self._write(row["run_id"], new_run=True) as conn:
            stream = row.get("seed_stream") or 0
            taken = stream and conn.execute(
                "SELECT run_id FROM runs WHERE experiment = ? AND seed_stream = ?",
                (row["experiment"], stream)).fetchone()
            if taken:
                raise StoreError(
                    f"store {self.path}: seed stream {stream} of {row['experiment']!r} was just "
                    f"taken by run {taken[0]} (a confirmatory run started at the same time); "
                    "nothing was run — start this one again: it takes the next fresh stream")
            conn.execute(
                """INSERT INTO runs (run_id, experiment, status, started_at, base_seed, replicates,
                   conditions, configs, fingerprint, fingerprint_parts, versions, git_commit,
                   hypotheses, host, pid, kind, seed_stream, lock_fingerprint, stop, metric_bounds)
                   VALUES (:run_id, :experiment, 'running', :started_at, :base_seed, :replicates,
                   :conditions, :configs, :fingerprint, :fingerprint_parts, :versions, :git_commit,
                   :hypotheses, :host, :pid, :kind, :seed_stream, :lock_fingerprint, :stop,
                   :metric_bounds)""",
                {"kind": "exploratory", "seed_stream": 0, "lock_fingerprint": None, "stop": None,
                 "metric_bounds": None,
                 **row,
                 "host": socket.gethostname(), "pid": os.getpid()},
            )
        self._recording.add(row["run_id"])

    def reopen_run(
        self, run_id: str, *, replicates: int, note: str | None, resumes: int | None = None,
        conditions: Iterable[str] | None = None,
    ) -> None:
        """Claim a stored run for a resume and mark it running again.

        Refused while a process on this machine is recording it, and when it was resumed
        after ``resumes`` was read (the replicates this resume skips were read before
        that). ``conditions`` become the run's: replicates of a condition left out stay in
        the store but are no longer part of the run (``load`` and ``runs`` skip them).
        """
        with self._write(run_id) as conn:
            row = conn.execute(
                "SELECT status, host, pid, resumes, conditions, note FROM runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                raise StoreError(f"store {self.path}: no run {run_id!r}")
            status, host, pid, count, stored, old_note = row
            if self._busy(run_id, status, host, pid):
                raise StoreError(
                    f"run {run_id} is being recorded right now by process {pid} on {host}; "
                    "wait for it to finish (or stop it), then resume again"
                )
            if resumes is not None and count != resumes:
                raise StoreError(
                    f"run {run_id} was resumed by another process after this resume looked at "
                    "it; resume again to continue from where it is now"
                )
            notes = [n for n in (old_note, note) if n]
            kept = json.loads(stored) if conditions is None else list(conditions)
            for gone in [c for c in json.loads(stored) if c not in kept]:
                (n,) = conn.execute(
                    "SELECT COUNT(*) FROM replicates WHERE run_id = ? AND condition = ?",
                    (run_id, gone),
                ).fetchone()
                notes.append(f"condition {gone!r} left out at resume {count + 1}: its {n} "
                             "stored replicate(s) are kept in the store but not part of the run")
            conn.execute(
                """UPDATE runs SET status = 'running', finished_at = NULL, resumes = resumes + 1,
                   replicates = MAX(replicates, ?), note = ?, conditions = ?, host = ?, pid = ?,
                   cancel_requested = NULL
                   WHERE run_id = ?""",
                (replicates, "; ".join(notes) or None, json.dumps(kept), socket.gethostname(),
                 os.getpid(), run_id),
            )
        self._recording.add(run_id)

    def _busy(self, run_id: str, status: str, host: str | None, pid: int | None) -> bool:
        """Is a live process recording this run? (Only knowable for this machine's.)"""
        if status != "running" or host != socket.gethostname():
            return False
        if pid == os.getpid():
            return run_id in self._recording
        return _live_status(status, host, pid) == "running"

    def release(self, run_id: str) -> None:
        """This process stopped recording ``run_id`` (without finish_run: a write failed)."""
        self._recording.discard(run_id)

    def save_replicates(
        self,
        run_id: str,
        reps: list[ReplicateResult],
        events: list[tuple[Any, ...]] | tuple[()] = (),
        artifacts: list[tuple[Any, ...]] | tuple[()] = (),
        *,
        replace: bool = False,
        trim_events_to: int | None = None,
        dropped: int = 0,
    ) -> int:
        """Commit finished replicates with their metrics (and buffered events) in one
        transaction; with ``replace``, a stored replicate of the same key (a resumed run's
        failed one) is replaced whole. ``trim_events_to``: then keep only the run's newest
        that many logged rows; ``dropped`` (plus the rows trimmed) is added to
        ``runs.events_dropped`` in the same transaction. Returns the rows trimmed."""
        with self._write(run_id) as conn:
            if reps:
                self._insert_replicates(conn, run_id, reps, replace)
            self._insert_events(conn, events, artifacts)
            return self._trim(conn, run_id, trim_events_to, dropped)

    def save_replicate(
        self,
        run_id: str,
        rep: ReplicateResult,
        events: list[tuple[Any, ...]] | tuple[()] = (),
        artifacts: list[tuple[Any, ...]] | tuple[()] = (),
    ) -> None:
        """Commit one finished replicate with its metrics (and buffered events) at once."""
        self.save_replicates(run_id, [rep], events, artifacts, replace=True)

    def _insert_replicates(
        self, conn: sqlite3.Connection, run_id: str, reps: list[ReplicateResult], replace: bool,
    ) -> None:
        if replace:  # a rerun of a failed replicate replaces it whole (metrics included)
            conn.executemany(
                "DELETE FROM metrics WHERE run_id = ? AND condition = ? AND replicate = ?",
                [(run_id, r.treatment, r.replicate) for r in reps])
        now = time.time()  # when committed: what last_commit and the failures' order read
        conn.executemany(
            """INSERT OR REPLACE INTO replicates (run_id, condition, replicate, seed, status,
               duration, error, traceback, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(run_id, r.treatment, r.replicate, r.seed, r.status, r.duration, r.error,
              r.traceback, now) for r in reps],
        )
        metrics = [(run_id, r.treatment, r.replicate, i, name, *_encode(value))
                   for r in reps for i, (name, value) in enumerate(r.values)]
        if metrics:
            conn.executemany(
                "INSERT INTO metrics (run_id, condition, replicate, seq, name, value, kind) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", metrics)

    def _trim(self, conn: sqlite3.Connection, run_id: str, keep: int | None, dropped: int) -> int:
        """Delete all but the run's newest ``keep`` logged rows; count them (and
        ``dropped``) in runs.events_dropped. One indexed range read and delete."""
        trimmed = 0
        if keep is not None:
            if keep == 0:
                cur = conn.execute("DELETE FROM events WHERE run_id = ?", (run_id,))
            else:
                row = conn.execute(
                    "SELECT id FROM events WHERE run_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                    (run_id, keep)).fetchone()
                cur = None if row is None else conn.execute(
                    "DELETE FROM events WHERE run_id = ? AND id <= ?", (run_id, row[0]))
            trimmed = 0 if cur is None else max(cur.rowcount, 0)
        if trimmed + dropped:
            conn.execute("UPDATE runs SET events_dropped = events_dropped + ? WHERE run_id = ?",
                         (trimmed + dropped, run_id))
        return trimmed

    def count_events(self, run_id: str) -> int:
        """Logged rows (output lines, ctx.emit events) kept for a run."""
        return int(self._read("SELECT COUNT(*) FROM events WHERE run_id = ?", (run_id,))[0][0])

    def _insert_events(
        self, conn: sqlite3.Connection, events: Iterable[tuple[Any, ...]],
        artifacts: Iterable[tuple[Any, ...]],
    ) -> None:
        # Most replicates have neither: skip the two statements (one round trip each).
        if events:
            conn.executemany(
                "INSERT INTO events (run_id, condition, replicate, time, kind, payload) VALUES (?, ?, ?, ?, ?, ?)",
                events,
            )
        if artifacts:
            conn.executemany(
                "INSERT OR REPLACE INTO artifacts (run_id, condition, replicate, name, path, size, sha256) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                artifacts,
            )

    def finish_run(
        self, run_id: str, status: str, *, events: list[tuple[Any, ...]] | tuple[()] = (),
        artifacts: list[tuple[Any, ...]] | tuple[()] = (), dropped: int = 0,
        trim_events_to: int | None = None,
    ) -> None:
        """Mark a run ended, with its last buffered rows (and the event log trimmed to
        ``trim_events_to`` rows, as in save_replicates)."""
        with self._write(run_id, ending=True) as conn:
            self._insert_events(conn, events, artifacts)
            self._trim(conn, run_id, trim_events_to, dropped)
            conn.execute("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                         (status, time.time(), run_id))
        self._recording.discard(run_id)

    def set_stop(self, run_id: str, stop: dict[str, Any]) -> None:
        """Record a run's stop rule and, once it ended, where and why it stopped."""
        with self._write(run_id) as conn:
            conn.execute("UPDATE runs SET stop = ? WHERE run_id = ?",
                         (json.dumps(stop, default=repr), run_id))

    def add_lineage(self, run_id: str, consumed: dict[str, Any]) -> None:
        """Record that ``run_id`` read the producer run ``consumed`` (core/chain.py)."""
        detail = {k: v for k, v in consumed.items() if k not in ("run_id", "experiment", "fingerprint")}
        with self._write(run_id) as conn:
            conn.execute("INSERT OR REPLACE INTO lineage (run_id, upstream_run, upstream_experiment, "
                         "upstream_fingerprint, detail) VALUES (?, ?, ?, ?, ?)",
                         (run_id, consumed["run_id"], consumed["experiment"], consumed["fingerprint"],
                          json.dumps(detail, default=repr)))

    def lineage(self, run_id: str) -> list[dict[str, Any]]:
        """The producer runs ``run_id`` read (see add_lineage), as recorded."""
        return [
            {"run_id": u, "experiment": e, "fingerprint": f, **json.loads(d)}
            for u, e, f, d in self._read(
                "SELECT upstream_run, upstream_experiment, upstream_fingerprint, detail FROM lineage "
                "WHERE run_id = ? ORDER BY upstream_experiment", (run_id,))
        ]

    # -- reading ------------------------------------------------------------------
    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._conn()
        return self._retry(lambda: conn.execute(sql, tuple(params)).fetchall())

    def runs(self, experiment: str | None = None) -> list[RunRecord]:
        """Runs, newest first, optionally of one experiment."""
        where, params = ("WHERE r.experiment = ?", (experiment,)) if experiment else ("", ())
        rows = self._read(
            f"""SELECT r.run_id, r.experiment, r.status, r.started_at, r.finished_at, r.base_seed,
                r.replicates, r.conditions, r.fingerprint, r.resumes, r.host, r.pid,
                (SELECT COUNT(*) FROM replicates p WHERE p.run_id = r.run_id AND p.status = 'ok'
                 AND p.condition IN (SELECT value FROM json_each(r.conditions))),
                (SELECT COUNT(*) FROM replicates p WHERE p.run_id = r.run_id AND p.status = 'failed'
                 AND p.condition IN (SELECT value FROM json_each(r.conditions))),
                r.kind, r.seed_stream
                FROM runs r {where} ORDER BY r.started_at DESC, r.rowid DESC""",
            params,
        )
        return [
            RunRecord(run_id=r[0], experiment=r[1], status=_live_status(r[2], r[10], r[11]),
                      started_at=r[3], finished_at=r[4], base_seed=r[5], replicates=r[6],
                      conditions=json.loads(r[7]), fingerprint=r[8], resumes=r[9], ok=r[12],
                      failed=r[13], kind=r[14], seed_stream=r[15])
            for r in rows
        ]

    def run_row(self, run_id: str) -> dict[str, Any]:
        conn = self._conn()
        cur = self._retry(lambda: conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)))
        row = cur.fetchone()
        if row is None:
            raise StoreError(f"store {self.path}: no run {run_id!r}")
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def replicates(self, run_id: str, finished_since: float | None = None) -> list[ReplicateResult]:
        """Every stored replicate of a run, with its metric values in recorded order; with
        ``finished_since`` (a wall time), only those finished then or later (a watcher's tail)."""
        since = "" if finished_since is None else " AND r.finished_at >= ?"
        params = (run_id,) if finished_since is None else (run_id, finished_since)
        # The replicates first: one committed between the two reads then has its metrics in
        # the second (same transaction); read the other way round it had none.
        rows = self._read(
            "SELECT condition, replicate, seed, status, duration, error, traceback "
            "FROM replicates r WHERE run_id = ?" + since + " ORDER BY condition, replicate",
            params,
        )
        values: dict[tuple[str, int], list[tuple[str, Any]]] = {}
        for cond, rep, name, value, kind in self._read(
            "SELECT m.condition, m.replicate, m.name, m.value, m.kind FROM metrics m "
            + ("" if finished_since is None else
               "JOIN replicates r ON r.run_id = m.run_id AND r.condition = m.condition AND "
               "r.replicate = m.replicate ")
            + "WHERE m.run_id = ?" + since + " ORDER BY m.condition, m.replicate, m.seq",
            params,
        ):
            values.setdefault((cond, rep), []).append((name, _decode(value, kind)))
        return [
            ReplicateResult(cond, rep, seed, status, values.get((cond, rep), []), duration, error, tb)
            for cond, rep, seed, status, duration, error, tb in rows
        ]

    def load(self, run_id: str) -> Result:
        """A stored run as a Result, the same shape as a live one."""
        row = self.run_row(run_id)
        conditions = json.loads(row["conditions"])
        # A condition left out by a forced resume keeps its rows but is not in the run.
        reps = [r for r in self.replicates(run_id) if r.treatment in conditions]
        complete = len(reps) >= row["replicates"] * len(conditions)
        result = Result(
            run_id=run_id, experiment=row["experiment"], seed=row["base_seed"],
            replicates=row["replicates"], conditions=conditions,
            configs=json.loads(row["configs"]), outcomes=reps,
            status=_live_status(row["status"], row["host"], row["pid"]), duration=(row["finished_at"] or row["started_at"]) - row["started_at"],
            complete=complete,
            hypotheses=[Hypothesis(**{**h, "treatments": tuple(h.get("treatments", ()))})
                        for h in json.loads(row["hypotheses"])],
            metric_bounds=stored_metric_bounds(row.get("metric_bounds")),
        )
        stop = json.loads(row["stop"]) if row.get("stop") else None
        # A stop request the run never acted on (it ended first) is not where it stopped.
        result.stop = stop if stop and set(stop) - {"requested"} else None
        result.kind = row.get("kind") or "exploratory"
        return result

    def events(self, run_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """The last ``limit`` logged events/output lines of a run, oldest first."""
        rows = self._read(
            "SELECT condition, replicate, time, kind, payload FROM events WHERE run_id = ? "
            "ORDER BY id DESC LIMIT ?",
            (run_id, limit),
        )
        return [
            {"treatment": c, "replicate": r, "time": t, "kind": k, **json.loads(p)}
            for c, r, t, k, p in reversed(rows)
        ]

    def output_lines_starting(self, run_id: str, prefix: str) -> list[str]:
        """A run's kept output lines that start with ``prefix`` (the cache's hit lines)."""
        pattern = json.dumps(prefix)[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._read("SELECT payload FROM events WHERE run_id = ? AND kind = 'output' "
                          "AND payload LIKE ? ESCAPE '\\'", (run_id, f'%"text": {pattern}%'))
        texts = (json.loads(p).get("text", "") for (p,) in rows)
        return [t for t in texts if t.startswith(prefix)]

    # -- live runs, from any process (see follow.py) -----------------------------------
    def live_status(self, run_id: str) -> tuple[str, str | None, int | None]:
        """(status, host, pid) of a run; "interrupted" when its process here is gone."""
        row = self._read("SELECT status, host, pid FROM runs WHERE run_id = ?", (run_id,))
        if not row:
            raise StoreError(f"store {self.path}: no run {run_id!r}")
        status, host, pid = row[0]
        return _live_status(status, host, pid), host, pid

    def events_since(self, run_id: str, after: int = 0, last: int | None = None,
                     ) -> list[dict[str, Any]]:
        """Logged rows of a run with row id above ``after`` (each with its "id"), oldest
        first; with ``last``, only the last ``last`` of them. Watchers tail a run this way."""
        if last is None:
            sql = ("SELECT id, condition, replicate, time, kind, payload FROM events "
                   "WHERE run_id = ? AND id > ? ORDER BY id")
            rows = self._read(sql, (run_id, after))
        else:
            sql = ("SELECT id, condition, replicate, time, kind, payload FROM events "
                   "WHERE run_id = ? AND id > ? ORDER BY id DESC LIMIT ?")
            rows = list(reversed(self._read(sql, (run_id, after, last))))
        return [
            {"id": i, "treatment": c, "replicate": r, "time": t, "kind": k, **json.loads(p)}
            for i, c, r, t, k, p in rows
        ]

    def data_version(self) -> int:
        """A number that changes when another connection commits to the store (SQLite's
        ``PRAGMA data_version``): a watcher skips re-reading what cannot have changed."""
        return int(self._read("PRAGMA data_version")[0][0])

    def attach(self, run_id: str) -> AttachedRun:
        """A read-only handle on a run another process is running (or that has ended):
        status, progress, its output lines, cancel() and wait() -> Result."""
        from .attach import AttachedRun

        return AttachedRun(self, run_id)

    def experiment_seeds(self, experiment: str) -> set[int]:
        """Every replicate seed stored for the runs of ``experiment`` (any condition, any
        status): what a confirmatory run's fresh seeds must avoid (core/confirm.py)."""
        return {int(s) for (s,) in self._read(
            "SELECT DISTINCT p.seed FROM replicates p JOIN runs r ON r.run_id = p.run_id "
            "WHERE r.experiment = ?", (experiment,))}

    def condition_counts(self, run_id: str) -> dict[str, tuple[int, int]]:
        """(finished ok, failed) replicates per condition of a run, in the run's order."""
        conditions = json.loads(self.run_row(run_id)["conditions"])
        counts = {c: (0, 0) for c in conditions}
        for cond, ok, failed in self._read(
            "SELECT condition, SUM(status = 'ok'), SUM(status = 'failed') FROM replicates "
            "WHERE run_id = ? GROUP BY condition", (run_id,),
        ):
            if cond in counts:
                counts[cond] = (int(ok or 0), int(failed or 0))
        return counts

    def events_dropped(self, run_id: str) -> int:
        """Logged rows of a run not kept: its earliest, beyond the bound on kept lines."""
        rows = self._read("SELECT events_dropped FROM runs WHERE run_id = ?", (run_id,))
        return int(rows[0][0]) if rows else 0

    def last_commit(self, run_id: str) -> float | None:
        """When the run's last replicate was committed (None before the first)."""
        return self._read("SELECT MAX(finished_at) FROM replicates WHERE run_id = ?",
                          (run_id,))[0][0]

    def failures(self, run_id: str) -> list[tuple[str, int, str]]:
        """(condition, replicate, error) of each failed replicate of a run."""
        return [(c, r, e or "") for c, r, e in self._read(
            "SELECT condition, replicate, error FROM replicates WHERE run_id = ? AND "
            "status = 'failed' ORDER BY finished_at", (run_id,))]

    def request_stop(self, run_id: str) -> None:
        """Ask the run to stop at its current look (the run screen's ``s``, ``crystallize
        stop``): no new replicate starts, running ones finish and are kept, and the run ends
        "stopped: at look" with its anytime rows there. Not a cancel: the run process polls
        this mark beside cancel_requested (``stop_requested_here``)."""
        with self._write(run_id) as conn:
            row = conn.execute("SELECT stop FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            stop = json.loads(row[0]) if row and row[0] else {}
            conn.execute("UPDATE runs SET stop = ? WHERE run_id = ?",
                         (json.dumps({**stop, "requested": "at look"}), run_id))

    def stop_requested(self, run_id: str) -> bool:
        """Did a watcher ask this run to stop at its current look (``request_stop``)?"""
        rows = self._read("SELECT stop FROM runs WHERE run_id = ?", (run_id,))
        return bool(rows and rows[0][0] and json.loads(rows[0][0]).get("requested"))

    def stop_requested_here(self) -> bool:
        """Did a watcher ask a run this process is recording to stop at its current look?"""
        return any(self.stop_requested(run_id) for run_id in tuple(self._recording))

    def request_cancel(self, run_id: str) -> None:
        """Ask the process running ``run_id`` to cancel it (it polls cancel_requested).
        The one write a watcher makes: a flag, never the run's own rows."""
        with self._write(run_id) as conn:
            conn.execute("UPDATE runs SET cancel_requested = ? WHERE run_id = ? AND "
                         "cancel_requested IS NULL", (time.time(), run_id))

    def cancel_requested_here(self) -> bool:
        """Did a watcher ask to cancel a run this process is recording?"""
        recording = tuple(self._recording)  # the run's thread may change the set meanwhile
        if not recording:
            return False
        marks = ",".join("?" * len(recording))
        return bool(self._read(
            f"SELECT 1 FROM runs WHERE run_id IN ({marks}) AND cancel_requested IS NOT NULL",
            recording))

    def artifacts(self, run_id: str) -> list[dict[str, Any]]:
        return [
            {"treatment": c, "replicate": r, "name": n, "path": p, "size": s, "sha256": h}
            for c, r, n, p, s, h in self._read(
                "SELECT condition, replicate, name, path, size, sha256 FROM artifacts "
                "WHERE run_id = ? ORDER BY condition, replicate, name",
                (run_id,),
            )
        ]

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"
