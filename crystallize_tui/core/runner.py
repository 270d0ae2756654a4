"""One run of an experiment: publishes run events, drives a backend, gathers the Result."""

from __future__ import annotations

import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator

from . import events as ev
from . import interrupts
from .backends import Backend
from .bus import EventBus
from .cancel import CancelToken
from .errors import CrystallizeError, StoreLostError
from .plan import RunPlan
from .plugins.base import Plugin, RunInfo
from .replicate import call_hook
from .result import CANCELLED, FAILED, OK, ReplicateResult, Result
from .stopping import StopMonitor, stopped_status, summary_at_look
from .store import RunRecorder


class Run:
    """A run in progress. ``iterate()`` yields replicate results as they finish;
    ``result`` is set once it is over (also after a cancel or a plugin failure)."""

    def __init__(
        self,
        *,
        info: RunInfo,
        plan: RunPlan,
        plugins: list[Plugin],
        bus: EventBus,
        token: CancelToken,
        fail_fast: bool,
        recorder: RunRecorder | None = None,
        prior: list[ReplicateResult] | None = None,
        backend: Backend | None = None,
        monitor: StopMonitor | None = None,
        kind: str = "exploratory",
    ) -> None:
        self.info = info
        self.plan = plan
        self.plugins = plugins
        self.bus = bus
        self.token = token
        self.fail_fast = fail_fast
        if backend is None:
            from .backends.serial import SerialBackend

            backend = SerialBackend()
        self.backend = backend  # where the replicates run (see core/backends)
        self.recorder = recorder  # commits each replicate before anyone hears of it
        # Announcements waiting for their replicate's group commit, with every event
        # published after them (so subscribers see the run's order): (replicates that must
        # be committed first, event).
        self._held: deque[tuple[int, ev.Event]] = deque()
        self._grouped = False  # commit in groups (not when each replicate is handed over)
        self._gated = False  # grouped, with listeners: announcements pass the gate below
        self._state_hooks: list[Callable[..., None]] = []  # see _tell_state
        # Held events leave in order: from the run's thread, or from the store's committer
        # thread once a group it committed frees them (the run may be in a long replicate).
        self._gate = threading.Lock()
        self.prior = list(prior or [])  # replicates a resumed run had already finished
        self.kind = kind  # the Result's: a resumed confirmatory run stays confirmatory
        # The stop rule's monitor (core/stopping.py): fed each kept replicate; once it says
        # stop, the token is cancelled (no new replicate starts) and the status says why.
        self.monitor = monitor
        self.stop_reason: str | None = None
        self._look: int | None = None  # outcomes kept when a user stopped the run at a look
        if monitor is not None:
            for outcome in sorted(self.prior, key=lambda o: o.replicate):
                self._observe(outcome)
        self.outcomes: list[ReplicateResult] = list(self.prior)
        self.result: Result | None = None
        self._started = 0.0
        # No subscriber but the store: a replicate's end needs no event (a bus only loses
        # subscribers during a run, never gains them), and nothing is held.
        self._listeners = len(bus) - (recorder is not None)
        self._unheard = self._listeners <= 0
        plan.lines_only = self._listeners <= 0 and recorder is not None

    # -- the run ------------------------------------------------------------------
    def iterate(self, *, each: bool = True) -> Iterator[ReplicateResult]:
        """Yield each replicate as it finishes; with ``each=False`` yield nothing and just
        run to the end (``Experiment.run``: no hand-over per replicate)."""
        # Ctrl-C (main thread) cancels this run's token; the run then winds down in order
        # and a KeyboardInterrupt reports it to the caller once everything is recorded.
        with interrupts.guard(self.token):
            try:
                yield from self._run(each)
            except KeyboardInterrupt:
                interrupts.take()  # this exception reports the Ctrl-C
                raise
            if interrupts.take():
                raise KeyboardInterrupt

    def _run(self, each: bool) -> Iterator[ReplicateResult]:
        # A replicate handed over (each) is committed first; run() commits in groups.
        self._grouped = not each and self.recorder is not None
        publish = self.bus.publish
        self._gated = self._grouped and self._listeners > 0
        # Looked up once: a bus only loses subscribers during a run, never gains them.
        self._state_hooks = self.bus.attribute("replicate_state") if self._gated else []
        if self._gated:
            publish = self._publish
            self.recorder.after_commit = self._committed  # type: ignore[union-attr]
        elif self.recorder is not None and self._listeners <= 0:
            # Only the store listens: its lines go straight to it, not through the bus.
            publish = self.recorder.on_event
        self._started = time.monotonic()
        for plugin in self.plugins:
            if plugin.overrides("before_run"):
                call_hook(plugin, "before_run", self.info)
        if self.recorder is not None:
            self.recorder.start()
        publish(ev.RunStarted(
            self.info.run_id, None, None, time.monotonic(), self.info.name,
            self.info.conditions, self.info.replicates, self.info.seed, len(self.plan.tasks),
            self._done_before(),
        ))
        backend = self._backend(publish)
        interrupted = False
        try:
            record = self._record
            if each:
                for outcome in backend:
                    if record(outcome):
                        yield outcome
            else:
                for outcome in backend:
                    record(outcome)
        except GeneratorExit:
            # The consumer left stream() early: cancel, keep what still finishes.
            self.token.cancel()
            self._drain(backend)
            self._finish()
            raise
        except KeyboardInterrupt:
            self.token.cancel()
            interrupted = True
            self._drain(backend)
            self._finish()
            raise
        except BaseException:
            self.token.cancel()
            self._finish(status=FAILED)
            raise
        if not interrupted:
            self._finish()

    def _done_before(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.prior:
            counts[outcome.treatment] = counts.get(outcome.treatment, 0) + 1
        return counts

    def _backend(self, publish: Callable[[ev.Event], None]) -> Iterator[ReplicateResult]:
        return self.backend.run(self.plan, self.token, publish)

    def _drain(self, backend: Iterator[ReplicateResult]) -> None:
        try:
            for outcome in backend:
                self._record(outcome)
        except KeyboardInterrupt:
            backend.close()  # type: ignore[attr-defined]

    def _record(self, outcome: ReplicateResult) -> bool:
        """Keep a finished replicate and announce it once committed; False for a cancelled one."""
        if outcome.status == CANCELLED:
            return False
        self.outcomes.append(outcome)
        if self.monitor is not None and not self.token.cancelled:
            self._observe(outcome)
        recorder = self.recorder
        if recorder is not None:
            recorder.replicate(outcome, hold=self._grouped and not self.token.cancelled)
        if self._unheard:
            if outcome.status != OK and self.fail_fast:
                self.token.cancel()
            return True  # nobody listens: building the event would be wasted work
        now = time.monotonic()
        if outcome.status == OK:
            event: ev.Event = ev.ReplicateFinished(
                self.info.run_id, outcome.treatment, outcome.replicate, now,
                outcome.seed, outcome.duration, outcome.metrics,
            )
        else:
            event = ev.ReplicateFailed(
                self.info.run_id, outcome.treatment, outcome.replicate, now,
                outcome.seed, outcome.duration, outcome.error or "", outcome.traceback or "",
            )
        if self._gated:
            assert recorder is not None
            with self._gate:  # the committer thread may be announcing held events meanwhile
                if self._held or recorder.committed < recorder.recorded:
                    self._held.append((recorder.recorded, event))
                    self._release()
                    if self._held:  # it waits: say at once that the step is no longer running
                        self._tell_state(outcome.treatment, outcome.replicate, False)
                else:
                    self.bus.publish(event)
        else:
            self.bus.publish(event)
        if outcome.status != OK and self.fail_fast:
            self.token.cancel()
        return True

    def _observe(self, outcome: ReplicateResult) -> None:
        """Feed the stop monitor; a rule that holds at this round stops new replicates."""
        assert self.monitor is not None
        metrics = dict(outcome.metrics) if outcome.status == OK else None
        if self.monitor.observe(outcome.treatment, outcome.replicate, metrics) and self.stop_reason is None:
            self.stop_reason = self.monitor.reason
            # No new replicate; running ones (a pool's) finish and are kept (core/stopping.py).
            self.token.stop_starting()

    def _stop_requested(self) -> bool:
        """A watcher (the run screen's key) asked to stop at this look, not to cancel."""
        if self.recorder is None:
            return False
        try:
            return self.recorder.store.stop_requested(self.info.run_id)
        except CrystallizeError:
            return False

    def stop_at_look(self) -> None:
        """Stop now, as a decided rule would: no new replicate; running ones finish and are
        kept; status "stopped: at look" (thread-safe: a watcher's request arrives so)."""
        if self.stop_reason is None and self.result is None and not self.token.cancelled:
            self._look = len(self.outcomes)  # the rows at the stop are those of these
            self.stop_reason = "at look"
            self.token.stop_starting()

    def _publish(self, event: ev.Event) -> None:
        """The backend's publish while replicates are committed in groups: an event after a
        held announcement waits behind it (the store takes its lines at once)."""
        with self._gate:
            if self._held and type(event) is ev.ReplicateStarted:
                self._tell_state(event.treatment, event.replicate, True)
            if self._held:
                self._release()
                if self._held:
                    assert self.recorder is not None
                    self.recorder.on_event(event)
                    self._held.append((0, event))
                    return
            self.bus.publish(event)

    def _tell_state(self, condition: str | None, replicate: int | None, running: bool) -> None:
        """While events wait for a group commit, tell the subscribers that ask for it (a
        ``replicate_state(condition, replicate, running)`` attribute: the window that launched
        a run process) at once which replicates run, so that should the process die, the
        window knows which one it died in. The ordered events follow as usual."""
        for hook in self._state_hooks:
            try:
                hook(condition, replicate, running)
            except Exception:  # noqa: BLE001 - a watcher's failure never fails the run
                pass

    def _committed(self) -> None:
        """The committer thread committed a group: announce what it frees now."""
        with self._gate:
            self._release()

    def _release(self) -> None:
        """Publish the held events whose replicates are committed, in order (with the gate)."""
        assert self.recorder is not None
        held, recorder = self._held, self.recorder
        committed = recorder.committed
        recorder.muted = True  # it has these events (or needs none of them) already
        try:
            while held and held[0][0] <= committed:
                self.bus.publish(held.popleft()[1])
        finally:
            recorder.muted = False

    def _drop_uncommitted(self) -> None:
        """A commit failed: publish what may be heard, never an uncommitted replicate's end."""
        assert self.recorder is not None
        committed = self.recorder.committed
        with self._gate:
            self._held = deque((0, e) for need, e in self._held if need <= committed
                               or not isinstance(e, (ev.ReplicateFinished, ev.ReplicateFailed)))
            self._release()

    def _finish(self, status: str | None = None) -> None:
        if self.result is not None:
            return
        unsaved: CrystallizeError | None = None
        if self.recorder is not None:
            try:  # what waits for a group commit: before the run's end is announced
                self.recorder.commit()
            except CrystallizeError as exc:  # those replicates are not in the store
                unsaved = exc
                status = FAILED
            if self._held:
                self._drop_uncommitted()
        failed = sum(1 for o in self.outcomes if o.status == FAILED)
        finished = len(self.outcomes) - failed
        complete = len(self.outcomes) == len(self.prior) + len(self.plan.tasks)
        if self.stop_reason is None and self.token.cancelled and self._stop_requested():
            self.stop_reason = "at look"
        if status is None and self.stop_reason is not None and not (failed and self.fail_fast):
            status = stopped_status(self.stop_reason)
        if status is None:
            if complete:
                status = FAILED if failed else "completed"
            else:  # stopped early: by fail_fast after a failure, or by a cancel
                status = FAILED if failed and self.fail_fast else CANCELLED
        duration = time.monotonic() - self._started
        self.result = Result(
            run_id=self.info.run_id, experiment=self.info.name, seed=self.info.seed,
            replicates=self.info.replicates, conditions=list(self.info.conditions),
            configs=self.info.configs, outcomes=self.outcomes, status=status, duration=duration,
            complete=complete, hypotheses=getattr(self.info.experiment, "hypotheses", []),
            metric_bounds=getattr(self.info.experiment, "metric_bounds", None),
        )
        self.result.kind = self.kind
        if self.monitor is not None or self.stop_reason == "at look":
            self.result.stop = (
                self.monitor.summary(stopped_by_user=self.stop_reason == "at look",
                                     outcomes=self.outcomes)
                if self.monitor is not None else
                summary_at_look(list(self.info.conditions), self.outcomes[:self._look],
                                self.result.declared_hypotheses, kept=self.outcomes,
                                metric_bounds=self.result.metric_bounds))
            if self.recorder is not None and unsaved is None:
                try:
                    self.recorder.store.set_stop(self.info.run_id, self.result.stop)
                except CrystallizeError as exc:
                    warnings.warn(f"could not record where run {self.info.run_id} stopped: {exc}",
                                  RuntimeWarning, stacklevel=2)
        lost: StoreLostError | None = None
        if self.recorder is not None:
            try:
                self.recorder.finish(self.result)
            except StoreLostError as exc:  # the committed replicates went with the file
                lost = exc
                self.result.status = status = FAILED
            except CrystallizeError as exc:  # the replicates are committed already
                warnings.warn(f"could not record the end of run {self.info.run_id}: {exc}",
                              RuntimeWarning, stacklevel=2)
        now = time.monotonic()
        if status == CANCELLED:
            self.bus.publish(ev.RunCancelled(self.info.run_id, None, None, now, duration, finished, failed))
        else:
            self.bus.publish(ev.RunFinished(self.info.run_id, None, None, now, status, duration, finished, failed))
        for plugin in self.plugins:
            if plugin.overrides("after_run"):
                call_hook(plugin, "after_run", self.info, self.result)
        if lost is not None:
            # As when a replicate's commit finds the file gone: the caller must not report
            # the run as stored (also after a cancel: nothing finished was kept).
            raise lost
        if unsaved is not None:
            raise unsaved  # as a failed commit of a replicate during the run
