"""The picklable description of a run that every execution backend works from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .pipeline import StepSpec
from .plugins.base import REPLICATE_HOOKS, Plugin


@dataclass
class RunPlan:
    """Everything a worker needs to run any replicate of the run."""

    run_id: str
    name: str
    steps: tuple[StepSpec, ...]
    configs: dict[str, Any]
    seeds: list[int]
    plugins: list[Plugin]
    tasks: list[tuple[str, int]]  # (condition, replicate) in the order to start them
    want_events: bool = True  # publish fine-grained events (someone is listening)
    capture: bool = True  # capture print() output as Output events
    echo: bool = True  # captured output still reaches the terminal
    keep_output: bool = False  # keep the last step's return value (debug mode)
    reraise: bool = False  # a step's exception propagates instead of being recorded (debug)


@dataclass
class ReplicateHooks:
    """The plugins that override each replicate-level hook, found once per process."""

    before_replicate: list[Plugin] = field(default_factory=list)
    before_step: list[Plugin] = field(default_factory=list)
    after_step: list[Plugin] = field(default_factory=list)
    after_replicate: list[Plugin] = field(default_factory=list)

    @classmethod
    def of(cls, plugins: list[Plugin]) -> ReplicateHooks:
        hooks = cls()
        for hook in REPLICATE_HOOKS:
            getattr(hooks, hook).extend(p for p in plugins if p.overrides(hook))
        return hooks
