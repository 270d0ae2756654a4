"""Noticing an ``async def`` step that blocks the shared event loop (``time.sleep`` in a coroutine).

On the async backend every replicate in flight waits while one step runs without awaiting.
The step's coroutine is driven through ``timed`` here, which measures each stretch it runs
between two awaits; the first stretch of a step longer than BLOCKING_SECONDS in a run is
reported once, in the output of the replicate that did it, with what to do instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

BLOCKING_SECONDS = 0.5  # a stretch without an await this long holds up the whole run


class Blocking:
    """The steps already reported in this run (one line per step, not one per replicate)."""

    def __init__(self) -> None:
        self.reported: set[str] = set()

    def report(self, step: str, seconds: float, log: Callable[[str], None]) -> None:
        if step in self.reported:
            return
        self.reported.add(step)
        log(f"async step {step!r} ran {seconds:.1f} s without awaiting, blocking the event loop: "
            "every replicate in flight waited. A blocking call (time.sleep, requests...) in an "
            "async def step? Await asyncio.sleep or an async client, or make the step a plain def "
            "(it then runs in a thread)")


class timed:  # noqa: N801 - used as ``await timed(...)``, like a function
    """``await timed(coro, step, blocking, log)``: ``await coro``, timing its stretches."""

    __slots__ = ("coro", "step", "blocking", "log")

    def __init__(self, coro: Any, step: str, blocking: Blocking, log: Callable[[str], None]) -> None:
        self.coro = coro
        self.step = step
        self.blocking = blocking
        self.log = log

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, clock = self.coro, time.perf_counter
        send, throw = coro.send, coro.throw
        value: Any = None
        error: BaseException | None = None
        while True:
            start = clock()
            try:
                yielded = send(value) if error is None else throw(error)
            except StopIteration as stop:
                self._check(clock() - start)
                return stop.value
            except BaseException:
                self._check(clock() - start)
                raise
            self._check(clock() - start)
            try:
                value, error = (yield yielded), None
            except BaseException as exc:  # a cancel (or anything thrown in): to the coroutine
                value, error = None, exc

    def _check(self, seconds: float) -> None:
        if seconds > BLOCKING_SECONDS:
            self.blocking.report(self.step, seconds, self.log)
