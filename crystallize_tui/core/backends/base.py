"""The execution backend interface: one method that runs a plan and yields its results.

Why a single ``run(plan, token, publish)`` generator rather than start/submit/poll/
cancel/close: the runner needs nothing from a backend but finished replicates in
completion order and the events on its own thread; how a backend schedules, supervises
and cancels differs too much to share more (serial runs in the caller, the local pool
watches pipes and restarts dead workers, Dask would use futures, ``as_completed`` and
``Worker.log_event`` topics). A generator also gives cancel and close for free: the
``token`` stops new replicates, and ``close()`` on the generator (the consumer leaving)
runs the backend's cleanup. So a new backend (Dask) is one module with one class that
implements ``run`` (its settings, e.g. a scheduler address, are its ``__init__``
keywords, listed in ``SETTINGS``), plus its line in the registry (backends/__init__.py)
or a ``register_backend`` call; the runner, the run options, the YAML ``run:`` section,
``--backend`` and the store take it as they are (tests/test_backends.py's ToyBackend).

The contract every backend keeps:
- ``publish`` is called only in the thread that iterates ``run`` (subscribers and the
  store are single-threaded); events of a replicate come before its result.
- results come in completion order, one per replicate that ran (a step's exception is a
  FAILED result, not an exception); replicates never started because of a cancel are
  simply not yielded.
- after ``token.cancel()`` no new replicate starts; running ones stop at their next
  cancellation point. After ``token.stop_starting()`` (a stop rule held: ``token.cancelled``
  but not ``token.hard_cancelled``) no new replicate starts and running ones finish.
- a plugin's failure (``PluginError``) stops the run and is raised once the backend has
  wound down.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import ClassVar

from ..cancel import CancelToken
from ..events import Event
from ..plan import RunPlan
from ..result import ReplicateResult

Publish = Callable[[Event], None]


class Backend(ABC):
    """Where replicates run. Subclasses take their settings as keyword arguments to
    ``__init__`` (``workers`` always; others listed in ``SETTINGS``) and check them there,
    raising ConfigError."""

    name: ClassVar[str] = ""
    SETTINGS: ClassVar[tuple[str, ...]] = ("workers",)

    def __init__(self, *, workers: int = 1) -> None:
        self.workers = workers

    @abstractmethod
    def run(self, plan: RunPlan, token: CancelToken, publish: Publish) -> Iterator[ReplicateResult]:
        """Run ``plan.tasks``, yielding each replicate's result as it finishes."""

    def connect(self) -> None:
        """Reach what the backend needs outside this process (a scheduler at an address)
        before the run is recorded, raising ConfigError if it cannot: a run that could not
        start leaves no record. Nothing by default."""
        return None

    def describe(self) -> str:
        """How this backend is recorded with a run, e.g. "processes x4"."""
        return self.name if self.workers == 1 else f"{self.name} x{self.workers}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"
