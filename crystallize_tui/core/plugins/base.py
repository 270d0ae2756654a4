"""The plugin base class and the description of a run its hooks receive.

Hooks, in the order they fire (every one optional; only overridden hooks are called):

- ``before_run(run)`` / ``after_run(run, result)`` — once, in the process that called run();
- ``before_replicate(ctx)``, ``before_step(ctx, step)``, ``after_step(ctx, step, output)``,
  ``after_replicate(ctx, replicate_result)`` — wherever the replicate runs (a worker
  thread or process under ``ParallelExecution``), so they must not rely on parent state;
- ``on_event(event)`` — every event, in the process that called run().

A plugin that raises in a hook fails the run with a ``PluginError`` naming it; an
``on_event`` that raises only watches, so it is disabled with a warning instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..context import StepContext
    from ..events import Event
    from ..result import ReplicateResult, Result

REPLICATE_HOOKS = ("before_replicate", "before_step", "after_step", "after_replicate")


@dataclass(frozen=True)
class RunInfo:
    """What a run is about to do: handed to ``before_run`` and ``after_run``."""

    run_id: str
    experiment: Any  # the Experiment
    name: str
    seed: int
    replicates: int
    conditions: tuple[str, ...]
    configs: dict[str, Any]
    resumed: bool = False  # True when this run continues an interrupted one (same run_id)


class Plugin:
    """Base class for plugins; override the hooks you need."""

    def before_run(self, run: RunInfo) -> None:
        pass

    def before_replicate(self, ctx: StepContext) -> None:
        pass

    def before_step(self, ctx: StepContext, step: str) -> None:
        pass

    def after_step(self, ctx: StepContext, step: str, output: Any) -> None:
        pass

    def after_replicate(self, ctx: StepContext, result: ReplicateResult) -> None:
        pass

    def on_event(self, event: Event) -> None:
        pass

    def after_run(self, run: RunInfo, result: Result) -> None:
        pass

    @property
    def name(self) -> str:
        return type(self).__name__

    def overrides(self, hook: str) -> bool:
        """True when this plugin's class defines ``hook`` itself (so it is worth calling)."""
        return getattr(type(self), hook) is not getattr(Plugin, hook)
