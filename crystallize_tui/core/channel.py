"""A child process's live channel to its parent: events sent in pickled batches over a pipe.

Process workers use it to send events and finished replicates to the run; a run process
uses it to send its events to the window that launched it.
"""

from __future__ import annotations

import copyreg
import dataclasses
import io
import operator
import pickle
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from .events import Event
from .result import ReplicateResult


class BatchSender:
    """Collects a process's events and sends them to its parent in pickled batches.

    A background thread flushes every ``interval`` seconds, so events reach the parent
    while a long step is still running; control messages flush at once.
    """

    def __init__(self, out: Connection, interval: float = 0.02, max_batch: int = 512) -> None:
        self._out = out
        self._buf: list[Any] = []
        self._lock = threading.Lock()
        self._max = max_batch
        self._stop = threading.Event()
        self.closed = False  # the other end went away: later sends are dropped
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)
        self._thread.start()

    def emit(self, item: Any) -> None:
        with self._lock:
            self._buf.append(item)
            if len(self._buf) >= self._max:
                self._flush()

    def send_now(self, item: Any) -> None:
        with self._lock:
            self._buf.append(item)
            self._flush()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._flush()

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with self._lock:
                self._flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        batch, self._buf = self._buf, []
        try:
            data = dumps_batch(batch)
        except Exception:
            data = dumps_batch([_picklable(item) for item in batch])
        if self.closed:
            return
        try:
            self._out.send_bytes(data)  # synchronous: nothing is lost if the process dies next
        except OSError:  # the parent stopped listening (it detached, quit or died)
            self.closed = True


def _event_reducer(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    """Pickle an event as its class and its fields, rebuilt by calling the class: half the
    cost both ways of the default for a slotted dataclass (per-field ``__setstate__``)."""
    names = [f.name for f in dataclasses.fields(cls)]
    if len(names) < 2 or any(not f.init for f in dataclasses.fields(cls)):
        return None
    fields_of = operator.attrgetter(*names)
    return lambda event: (cls, fields_of(event))


def _event_classes(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _event_classes(sub)


# The engine's events, each pickled by its reducer (a plugin's own Event subclass, defined
# later, is pickled the default way).
_DISPATCH = copyreg.dispatch_table.copy()
for _cls in _event_classes(Event):
    _reduce = _event_reducer(_cls)
    if _reduce is not None:
        _DISPATCH[_cls] = _reduce
# A pool worker's results, the same way: their slots are ReplicateResult's arguments in order.
_result_fields = operator.attrgetter(*ReplicateResult.__slots__)
_DISPATCH[ReplicateResult] = lambda result: (ReplicateResult, _result_fields(result))


def dumps_batch(batch: list[Any]) -> bytes:
    """``batch`` pickled for ``receive_batches`` (plain ``pickle.loads`` reads it)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(batch)
    return buffer.getvalue()


def _picklable(item: Any) -> Any:
    """``item``, or a stand-in with unpicklable parts shown as their repr."""
    try:
        pickle.dumps(item)
        return item
    except Exception:
        pass
    data = getattr(item, "data", None)
    if isinstance(data, dict):
        return dataclasses.replace(item, data={k: _safe_value(v) for k, v in data.items()})
    if isinstance(item, tuple) and item and item[0] == "done":
        result = item[2]
        result.output = None
        return item
    return repr(item)


def _safe_value(value: Any) -> Any:
    try:
        pickle.dumps(value)
        return value
    except Exception:
        return repr(value)


def connection_on_fd(fd: int, *, readable: bool, writable: bool) -> Connection:
    """A Connection (length-prefixed messages) on an inherited pipe end ``fd``."""
    return Connection(fd, readable=readable, writable=writable)


def receive_batches(conn: Connection) -> Iterator[list[Any]]:
    """Each batch a BatchSender sent on ``conn``, until the other end is closed."""
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        yield pickle.loads(data)


__all__ = ["BatchSender", "connection_on_fd", "dumps_batch", "receive_batches"]
