"""Crystallize: run a stochastic experiment many times and compare conditions honestly.

Importing this package never imports textual (the TUI is loaded only by the CLI), and
imports the engine only when one of its names is first used, so that `crystallize --help`
stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Where each public name lives; the module is imported on first access (PEP 562).
_LAZY = {
    "ArtifactPlugin": ".core.plugins",
    "ArtifactSaved": ".core.events",
    "Cancelled": ".core.errors",
    "ConditionMetrics": ".core.result",
    "ConfigError": ".core.errors",
    "CrystallizeError": ".core.errors",
    "DEFAULT_SEED": ".core.seeds",
    "DaskExecution": ".core.backends.dask_plugin",
    "Event": ".core.events",
    "Experiment": ".core.experiment",
    "Hypothesis": ".core.hypothesis",
    "LoggingPlugin": ".core.plugins",
    "MetricRecorded": ".core.events",
    "Output": ".core.events",
    "ParallelExecution": ".core.plugins",
    "Plugin": ".core.plugins",
    "PluginError": ".core.errors",
    "ReplicateError": ".core.errors",
    "ReplicateFailed": ".core.events",
    "ReplicateFailure": ".core.result",
    "ReplicateFinished": ".core.events",
    "ReplicateResult": ".core.result",
    "ReplicateStarted": ".core.events",
    "Result": ".core.result",
    "RunCancelled": ".core.events",
    "RunFinished": ".core.events",
    "RunHandle": ".core.handle",
    "RunInfo": ".core.plugins",
    "RunRecord": ".core.store",
    "RunStarted": ".core.events",
    "SeedPlugin": ".core.plugins",
    "StepContext": ".core.context",
    "StepFinished": ".core.events",
    "StepStarted": ".core.events",
    "Store": ".core.store",
    "StoreError": ".core.errors",
    "Treatment": ".core.treatment",
    "UserEvent": ".core.events",
    "default_store_path": ".core.store",
    "derive_seed": ".core.seeds",
    "from_run": ".core.chain",
    "from_runs": ".core.chain",
    "run_upstream": ".core.chain_upstream",
    "pipeline_step": ".core.pipeline",
    "quick_experiment": ".core.quick",
    "register_datasource": ".core.treatment",
    "resource": ".core.resources",
    "standalone_context": ".core.context",
}

if TYPE_CHECKING:
    from .core.backends.dask_plugin import DaskExecution
    from .core.chain import from_run, from_runs
    from .core.chain_upstream import run_upstream
    from .core.context import StepContext, standalone_context
    from .core.errors import (
        Cancelled,
        ConfigError,
        CrystallizeError,
        PluginError,
        ReplicateError,
        StoreError,
    )
    from .core.events import (
        ArtifactSaved,
        Event,
        MetricRecorded,
        Output,
        ReplicateFailed,
        ReplicateFinished,
        ReplicateStarted,
        RunCancelled,
        RunFinished,
        RunStarted,
        StepFinished,
        StepStarted,
        UserEvent,
    )
    from .core.experiment import Experiment
    from .core.handle import RunHandle
    from .core.hypothesis import Hypothesis
    from .core.pipeline import pipeline_step
    from .core.plugins import (
        ArtifactPlugin,
        LoggingPlugin,
        ParallelExecution,
        Plugin,
        RunInfo,
        SeedPlugin,
    )
    from .core.quick import quick_experiment
    from .core.resources import resource
    from .core.result import ConditionMetrics, ReplicateFailure, ReplicateResult, Result
    from .core.seeds import DEFAULT_SEED, derive_seed
    from .core.store import RunRecord, Store, default_store_path
    from .core.treatment import Treatment, register_datasource


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

__all__ = [
    "ArtifactPlugin",
    "ArtifactSaved",
    "Cancelled",
    "ConditionMetrics",
    "ConfigError",
    "CrystallizeError",
    "DEFAULT_SEED",
    "DaskExecution",
    "Event",
    "Experiment",
    "Hypothesis",
    "LoggingPlugin",
    "MetricRecorded",
    "Output",
    "ParallelExecution",
    "Plugin",
    "PluginError",
    "ReplicateError",
    "ReplicateFailed",
    "ReplicateFailure",
    "ReplicateFinished",
    "ReplicateResult",
    "ReplicateStarted",
    "Result",
    "RunCancelled",
    "RunFinished",
    "RunHandle",
    "RunInfo",
    "RunRecord",
    "RunStarted",
    "SeedPlugin",
    "StepContext",
    "StepFinished",
    "StepStarted",
    "Store",
    "StoreError",
    "Treatment",
    "UserEvent",
    "default_store_path",
    "derive_seed",
    "from_run",
    "from_runs",
    "run_upstream",  # beside the other chain names (core/chain*.py)
    "pipeline_step",
    "quick_experiment",
    "register_datasource",
    "resource",
    "standalone_context",
]
