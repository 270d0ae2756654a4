"""The Dask worker's side of a run: set up once per worker by a WorkerPlugin, chunks of
replicates run there, their events sent back through ``Worker.log_event``, and the cancel
and stop flags that the run sets on every worker (checked locally at each cancellation point
and before each replicate of a chunk)."""

from __future__ import annotations

import dataclasses
import os
import pickle
import threading
from typing import Any

from distributed import WorkerPlugin, get_worker

from .. import capture as capture_mod
from .. import resources as resources_mod
from ..cancel import CancelToken
from ..events import Event
from ..plan import ReplicateHooks, RunPlan
from ..replicate import replicate_runner
from ..result import ReplicateResult
from . import dask_ship

FLUSH_INTERVAL = 0.02  # seconds: how stale a running replicate's events may get
MAX_BATCH = 2048

_RUNS: dict[str, WorkerRun] = {}  # run key -> this worker's state for that run
_RUNS_LOCK = threading.Lock()


class RunSetup(WorkerPlugin):
    """Registered by the run (one per run, named after it): every worker, including one
    that joins or is restarted later, gets the plan and the modules before any chunk."""

    idempotent = False

    def __init__(self, run_key: str, topic: str, plan: bytes, folders: dask_ship.Folders) -> None:
        self.run_key = run_key
        self.topic = topic
        self.plan = plan
        self.folders = folders

    def setup(self, worker: Any) -> None:
        with _RUNS_LOCK:
            _RUNS[self.run_key] = WorkerRun(worker, self)

    def teardown(self, worker: Any) -> None:
        with _RUNS_LOCK:
            run = _RUNS.pop(self.run_key, None)
        if run is not None:
            run.close()


class WorkerRun:
    """One run's state on one worker: its plan (unpickled at the first chunk, so an import
    failure is that chunk's error), its cancel token and its event sender."""

    def __init__(self, worker: Any, setup: RunSetup) -> None:
        self.worker = worker
        self.setup = setup
        self.token = CancelToken()
        self.sender = _TopicSender(worker, setup.topic)
        self._plan: RunPlan | None = None
        self._hooks: ReplicateHooks | None = None
        self._lock = threading.Lock()
        self._captured = False
        self._resources: Any = None

    def plan(self) -> tuple[RunPlan, ReplicateHooks]:
        with self._lock:
            if self._plan is None:
                base = getattr(self.worker, "local_directory", None) or os.getcwd()
                dask_ship.install(self.setup.folders, base)
                plan = dask_ship.unpack(self.setup.plan, str(self.worker.address))
                if plan.capture:
                    capture_mod.install()
                    self._captured = True
                self._hooks = ReplicateHooks.of(plan.plugins)
                self._resources = resources_mod.open_for(plan)  # once per worker, closed with the run
                self._plan = plan
            return self._plan, self._hooks  # type: ignore[return-value]

    def run_chunk(self, attempt: int, tasks: list[tuple[str, int, int]]) -> list[ReplicateResult]:
        plan, hooks = self.plan()
        tagger = _Tagger(self.sender, attempt)
        run = replicate_runner(plan, tagger.emit, self.token, hooks)
        results: list[ReplicateResult] = []
        try:
            for treatment, k, _seed in tasks:
                if self.token.cancelled:
                    break
                tagger.begin(treatment, k)
                results.append(run(treatment, k))
        finally:
            self.sender.flush()  # this chunk's events travel before its results
        return results

    def close(self) -> None:
        self.token.cancel()
        self.sender.close()
        if self._resources is not None:
            self._resources.close()
        if self._captured:
            capture_mod.uninstall()
            self._captured = False


def run_chunk(run_key: str, attempt: int, tasks: bytes) -> bytes:
    """The Dask task: run ``tasks`` (pickled (condition, replicate, seed) tuples, one
    after the other) of run ``run_key`` on this worker; their results. Both go pickled
    in one piece: Dask serializes a list item by item, ten times slower for trivial
    replicates."""
    run = _RUNS.get(run_key)
    if run is None:
        raise RuntimeError(f"Dask worker {get_worker().address} was not set up for run {run_key}")
    results = run.run_chunk(attempt, pickle.loads(tasks))
    return pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)


def cancel_run(run_key: str, dask_worker: Any = None) -> bool:
    """Called on every worker by ``Client.run`` when the run is cancelled: set its flag."""
    run = _RUNS.get(run_key)
    if run is not None:
        run.token.cancel()
    return run is not None


def stop_run(run_key: str, dask_worker: Any = None) -> bool:
    """Called on every worker by ``Client.run`` when the run stops starting replicates (a
    stop rule held, or a stop at a look): its chunks start no new one; running ones finish."""
    run = _RUNS.get(run_key)
    if run is not None:
        run.token.stop_starting()
    return run is not None


class _Tagger:
    """Tags each event of the running replicate with its key: (condition, replicate,
    attempt, sequence) (the run is the topic). Dask computing a chunk again (its worker
    died holding the results) repeats the same keys, which the run drops."""

    __slots__ = ("sender", "attempt", "treatment", "k", "seq")

    def __init__(self, sender: _TopicSender, attempt: int) -> None:
        self.sender = sender
        self.attempt = attempt
        self.treatment = ""
        self.k = -1
        self.seq = 0

    def begin(self, treatment: str, k: int) -> None:
        self.treatment, self.k, self.seq = treatment, k, 0

    def emit(self, event: Event) -> None:
        self.seq += 1
        self.sender.add((self.treatment, self.k, self.attempt, self.seq, event))


class _TopicSender:
    """Sends a worker's events to the run in pickled batches through ``Worker.log_event``;
    a thread flushes every FLUSH_INTERVAL, so a long step's events arrive while it runs."""

    def __init__(self, worker: Any, topic: str) -> None:
        self.worker = worker
        self.topic = topic
        self._buf: list[Any] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="crystallize-dask-events", daemon=True)
        self._thread.start()

    def add(self, item: Any) -> None:
        with self._lock:
            self._buf.append(item)
            if len(self._buf) >= MAX_BATCH:
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def close(self) -> None:
        self._stop.set()
        self.flush()

    def _loop(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            self.flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        batch, self._buf = self._buf, []
        try:
            data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            data = pickle.dumps([_picklable(item) for item in batch], protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.worker.log_event(self.topic, data)
        except Exception:  # the worker is closing: the run has gone or will hear of it
            pass


def _picklable(item: tuple[Any, ...]) -> tuple[Any, ...]:
    """``item`` with an event's unpicklable data shown as its repr."""
    try:
        pickle.dumps(item)
        return item
    except Exception:
        pass
    event = item[-1]
    data = getattr(event, "data", None)
    if isinstance(data, dict):
        safe = {}
        for key, value in data.items():
            try:
                pickle.dumps(value)
                safe[key] = value
            except Exception:
                safe[key] = repr(value)
        event = dataclasses.replace(event, data=safe)
    else:
        event = repr(event)
    return (*item[:-1], event)
