"""Crystallize: run a stochastic experiment many times and compare conditions honestly.

Importing this package never imports textual (the TUI is loaded only by the CLI).
"""

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
from .core.result import ConditionMetrics, ReplicateFailure, ReplicateResult, Result
from .core.seeds import DEFAULT_SEED, derive_seed
from .core.store import RunRecord, Store, default_store_path
from .core.treatment import Treatment, register_datasource

__version__ = "0.1.0"

__all__ = [
    "ArtifactPlugin",
    "ArtifactSaved",
    "Cancelled",
    "ConditionMetrics",
    "ConfigError",
    "CrystallizeError",
    "DEFAULT_SEED",
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
    "pipeline_step",
    "quick_experiment",
    "register_datasource",
    "standalone_context",
]
