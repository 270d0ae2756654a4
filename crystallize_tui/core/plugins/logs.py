"""LoggingPlugin: a run's progress through the standard ``logging`` module."""

from __future__ import annotations

import logging as _logging

from ...watch.progress import ProgressReducer, clock
from .. import events as ev
from .base import Plugin, RunInfo


def _tag(event: ev.Event) -> str:
    return f"{event.treatment} #{event.replicate}"


class LoggingPlugin(Plugin):
    """Log run and replicate progress to the ``crystallize`` logger.

    Each condition's progress (done, failed, elapsed, ETA) is logged every 10% of its
    replicates. ``verbose=True`` also logs every replicate, step, metric, ``ctx.emit`` event
    and output line.
    If logging is not configured at all, a stderr handler is added so the lines show.
    """

    def __init__(self, verbose: bool = False, logger: str = "crystallize") -> None:
        self.verbose = verbose
        self.logger_name = logger
        # One reducer per run: started runs of one experiment may go at the same time.
        self.progress: dict[str, ProgressReducer] = {}

    @property
    def log(self) -> _logging.Logger:
        return _logging.getLogger(self.logger_name)

    def before_run(self, run: RunInfo) -> None:
        log = self.log
        if not log.handlers and not _logging.getLogger().handlers:
            handler = _logging.StreamHandler()
            handler.setFormatter(_logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            log.addHandler(handler)
        if log.level == _logging.NOTSET:
            log.setLevel(_logging.INFO)

    def on_event(self, event: ev.Event) -> None:
        self._log_event(event)
        if isinstance(event, ev.RunStarted):
            self.progress[event.run_id] = ProgressReducer()
        progress = self.progress.get(event.run_id)
        if progress is not None and progress.feed(event):
            if isinstance(event, (ev.ReplicateFinished, ev.ReplicateFailed)):
                self._log_progress(progress, event)
            elif isinstance(event, (ev.RunFinished, ev.RunCancelled)):
                del self.progress[event.run_id]

    def _log_event(self, event: ev.Event) -> None:
        log = self.log
        if isinstance(event, ev.RunStarted):
            log.info(
                "run %s of %s started: %s, %d replicates, seed %d",
                event.run_id, event.experiment, ", ".join(event.conditions),
                event.replicates, event.seed,
            )
        elif isinstance(event, ev.ReplicateFailed):
            log.warning("%s failed (seed %d): %s", _tag(event), event.seed, event.error)
        elif isinstance(event, ev.ReplicateFinished):
            if self.verbose:
                shown = ", ".join(f"{k}={v}" for k, v in event.metrics.items())
                log.info("%s finished in %.3fs: %s", _tag(event), event.duration, shown)
        elif isinstance(event, ev.RunFinished):
            log.info(
                "run %s %s in %.2fs: %d replicates finished, %d failed",
                event.run_id, event.status, event.duration, event.finished, event.failed,
            )
        elif isinstance(event, ev.RunCancelled):
            log.warning(
                "run %s cancelled after %.2fs: %d finished, %d failed",
                event.run_id, event.duration, event.finished, event.failed,
            )
        elif self.verbose:
            if isinstance(event, ev.StepStarted):
                log.info("%s step %s started (attempt %d)", _tag(event), event.step, event.attempt)
            elif isinstance(event, ev.StepFinished):
                log.info("%s step %s %s in %.3fs", _tag(event), event.step,
                         "finished" if event.ok else "failed", event.duration)
            elif isinstance(event, ev.MetricRecorded):
                log.info("%s metric %s = %r", _tag(event), event.name, event.value)
            elif isinstance(event, ev.UserEvent):
                log.info("%s %s %s", _tag(event), event.kind, event.data)
            elif isinstance(event, ev.Output):
                log.info("%s %s: %s", _tag(event), event.stream, event.text)

    def _log_progress(self, progress: ProgressReducer,
                      event: ev.ReplicateFinished | ev.ReplicateFailed) -> None:
        c = progress.condition(event.treatment or "", event.time)
        every = max(1, c.total // 10)
        if c.done % every and c.done != c.total:
            return
        failed = f", {c.failed} failed" if c.failed else ""
        eta = "" if c.eta is None or not c.remaining else f", eta {clock(c.eta)}"
        self.log.info("%s: %d/%d done%s, elapsed %s%s", c.condition, c.done, c.total, failed,
                      clock(progress.elapsed(event.time)), eta)

    def __repr__(self) -> str:
        return f"LoggingPlugin(verbose={self.verbose})"
