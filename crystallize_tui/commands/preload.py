"""Import the statistics (scipy: about a second) in the background while a run goes on, so
the table is printed as soon as the last replicate finishes."""

from __future__ import annotations

import importlib
import threading

STATISTICS = ("crystallize_tui.stats", "crystallize_tui.core.compare", "crystallize_tui.stats.render")


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
