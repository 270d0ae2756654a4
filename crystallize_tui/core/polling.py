"""A daemon thread that polls while a block runs (a run process watching for cancel requests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def polling(tick: Callable[[], bool], every: float, name: str) -> Iterator[None]:
    """While inside, a daemon thread calls ``tick`` every ``every`` seconds until it returns
    True or the block ends (the thread is joined, for at most a second, on the way out)."""
    done = threading.Event()

    def loop() -> None:
        while not done.wait(every):
            if tick():
                return

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=1)
