"""Import the statistics (scipy: about a second) in the background while a run goes on, so
the table is printed as soon as the last replicate finishes."""

from __future__ import annotations

import importlib
import threading

from ..core import events as ev

STATISTICS = ("crystallize_tui.stats", "crystallize_tui.core.compare", "crystallize_tui.render.tables")


def _import_statistics() -> None:
    for name in STATISTICS:
        try:
            importlib.import_module(name)
        except Exception:  # the main thread imports it again and reports the error itself
            return


def start_statistics_import() -> threading.Thread:
    """Start importing the statistics; the first use waits for whatever is left.

    A daemon thread: a command that ends early (an error, Ctrl-C) must not wait for it.
    Python's per-module import locks make the main thread's own import wait for this one
    rather than import twice."""
    thread = threading.Thread(target=_import_statistics, name="crystallize-preload", daemon=True)
    thread.start()
    return thread


class StatisticsPreload:
    """A run's subscriber that starts the import when the first replicate ends.

    Not earlier: the engine forks its process workers only while the process has a single
    thread (forking beside a thread that holds import locks can deadlock the child), so a
    thread started before the workers would make them spawn, which starts slower. By the
    first result every worker has started."""

    def __init__(self) -> None:
        self.started = False

    def __call__(self, event: ev.Event) -> None:
        if not self.started and isinstance(event, (ev.ReplicateFinished, ev.ReplicateFailed)):
            self.started = True
            start_statistics_import()
