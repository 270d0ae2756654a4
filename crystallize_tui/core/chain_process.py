"""A chain in one process (``crystallize run CONSUMER --with-upstream``): its stale producers,
then the consumer, each run announced to the window that launched it, and one cancel for all.

The UI launches a chain as one run process, so the chain goes on when the window quits
("leave running"): the consumer starts after its producers with nobody watching. The window
learns which run is which from the messages here: the events between
:class:`UpstreamStarting` and :class:`UpstreamEnded` are a producer's, the rest the
consumer's; :class:`ChainStopped` is the final message when the consumer does not start.
A cancel request (``Store.request_cancel``) on any run of the chain, a producer's that
already completed included, cancels the run going and stops the chain.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .chain_upstream import run_upstream
from .errors import ConfigError
from .polling import polling

CANCEL_POLL_S = 0.25  # as core/store/follow.py polls a single run


@dataclass(frozen=True)
class UpstreamStarting:
    """A producer's run starts next (``why``: what made it stale); its events follow."""

    experiment: str
    why: str


@dataclass(frozen=True)
class UpstreamEnded:
    """The producer's run that started last ended: its Result."""

    result: Any


@dataclass(frozen=True)
class ChainStopped:
    """The final message of a chain whose consumer did not start: a producer's run did not
    complete, or the chain was cancelled between two runs (``why``: "run ID was cancelled")."""

    producer: str
    run_id: str | None
    why: str


class Chain:
    """The runs of one chain in this process; ``watching()`` polls their cancel requests."""

    def __init__(self, store: Any, window: Any = None) -> None:
        self.store = store
        self.window = window if window else None
        self.run_ids: list[str] = []  # the runs this chain started, producers first
        self.current: Any = None  # the experiment running now
        self.cancelled = threading.Event()
        self.last: tuple[str, str | None] = ("", None)  # the last producer run: (name, run id)
        self.last_result: Any = None

    def run_producer(self, producer: Any, why: str, resume: bool = False) -> Any:
        """Run one stale producer (``run_upstream`` calls it), or continue its latest run
        (``resume``): its events to the window."""
        run_id = (self.store.runs(producer.name)[0].run_id if resume  # the one the engine resumes
                  else f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}")  # the engine's format
        self.last = (producer.name, run_id)
        if self.cancelled.is_set():  # cancelled since the last run ended: this one does not start
            raise ChainCancelled(producer.name, run_id)
        self.run_ids.append(run_id)
        self.current = producer
        self._send(UpstreamStarting(producer.name, why))
        subscribers = self.window.subscribers() if self.window is not None else []
        result = self.last_result = producer.run(run_id=None if resume else run_id, echo=False,
                                                 subscribers=subscribers, resume=resume)
        self._send(UpstreamEnded(result))
        return result

    def run_upstream(self, consumer: Any, find: Any, say: Any, resume: bool = False) -> None:
        """Every stale producer of ``consumer``, producers first (``resume``: continuing one
        whose latest run stopped short); raises ChainCancelled or ConfigError (a producer run
        that did not complete) when the consumer must not start."""
        run_upstream(consumer, find, self.store, say, run=self.run_producer, resume=resume)
        if self.cancelled.is_set():  # asked while the last producer was finishing
            raise ChainCancelled(*self.last)
        self.current = consumer

    def stopped(self, exc: BaseException) -> None:
        """Tell the window the consumer does not start (its final message)."""
        if self.window is None:
            return
        name, run_id = self.last
        failed = self.last_result is not None and upstream_failure(self.last_result)
        if isinstance(exc, ChainCancelled) or self.cancelled.is_set():
            why = f"run {run_id} was cancelled"
        else:
            why = failed or str(exc)
        self.window.send_final(ChainStopped(name, run_id, why))

    def _send(self, message: Any) -> None:
        if self.window is not None:
            self.window.open()
            self.window.sender.send_now(message)

    def _asked(self) -> bool:
        for run_id in tuple(self.run_ids):
            try:
                if self.store.run_row(run_id).get("cancel_requested") is not None:
                    return True
            except Exception:  # noqa: BLE001, S112 - not recorded yet, or a busy store: next poll
                continue
        return False

    @contextmanager
    def watching(self) -> Iterator[None]:
        """While inside, a thread cancels the run going (the consumer's too) once a cancel
        was asked of any run of the chain; asked again at each poll, since a run asked
        before it registered its token would miss one call."""
        def tick() -> bool:
            if not self.cancelled.is_set() and self._asked():
                self.cancelled.set()
            if self.cancelled.is_set() and self.current is not None:
                self.current.cancel()
            return False

        with polling(tick, CANCEL_POLL_S, "crystallize-chain-cancel"):
            yield


class ChainCancelled(ConfigError):
    """The chain was cancelled: the consumer does not start."""

    def __init__(self, producer: str, run_id: str | None) -> None:
        self.producer, self.run_id = producer, run_id
        super().__init__(f"upstream {producer} run {run_id} was cancelled; the consumer did not start")


def upstream_failure(result: Any) -> str | None:
    """Why a producer's run does not let its consumer start (as ``run_upstream`` decides),
    or None when it completed without a failed replicate."""
    if result.status == "completed" and not result.errors:
        return None
    if result.status == "cancelled":
        return f"run {result.run_id} was cancelled"
    return (f"run {result.run_id} ended {result.status} with {len(result.errors)} failed "
            "replicate(s)")
