"""The picklable description of a run that every execution backend works from."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError
from .pipeline import StepSpec
from .plugins.base import REPLICATE_HOOKS, Plugin
from .seeds import derive_seed
from .treatment import is_flat

# Results keep one slot per planned replicate and condition in memory, so the count is
# bounded; the plan itself is lazy and costs the same for 10 replicates as for the most.
MAX_REPLICATES = 1_000_000


def check_replicates(value: Any, what: str = "replicates") -> int:
    """``value`` if it is a usable replicate count, else a ConfigError saying the bounds."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what} must be a whole number >= 1, got {value!r}")
    if value > MAX_REPLICATES:
        raise ConfigError(
            f"{what} must be at most {MAX_REPLICATES:,} per condition, got {value:,}: every "
            "replicate's result is kept in memory and in the store"
        )
    return value


class Seeds(Sequence[int]):
    """The seeds of replicates 0..n-1, each derived when asked for (no list is built);
    ``stream`` >= 1 for a confirmatory run's fresh seeds (see core/seeds.py)."""

    __slots__ = ("base", "n", "stream")

    def __init__(self, base: int, n: int, stream: int = 0) -> None:
        self.base = base
        self.n = n
        self.stream = stream

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [derive_seed(self.base, i, self.stream) for i in range(*k.indices(self.n))]
        if not 0 <= k < self.n:
            raise IndexError(f"replicate {k} is not in 0..{self.n - 1}")
        return derive_seed(self.base, k, self.stream)


class TaskOrder:
    """The (condition, replicate) pairs to run, in start order, made one at a time:
    replicate by replicate with the conditions interleaved, so partial results stay
    balanced across conditions; pairs in ``done`` (finished before a resume) are skipped."""

    __slots__ = ("conditions", "n", "done")

    def __init__(self, conditions: Sequence[str], n: int, done: Collection[tuple[str, int]] = ()) -> None:
        self.conditions = tuple(conditions)
        self.n = n
        self.done = frozenset(d for d in done if d[0] in self.conditions and 0 <= d[1] < n)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        done, conditions = self.done, self.conditions
        if not done:  # a fresh run: nothing to look up
            for k in range(self.n):
                for c in conditions:
                    yield (c, k)
            return
        for k in range(self.n):
            for c in conditions:
                if (c, k) not in done:
                    yield (c, k)

    def __len__(self) -> int:
        return self.n * len(self.conditions) - len(self.done)


@dataclass
class RunPlan:
    """Everything a worker needs to run any replicate of the run."""

    run_id: str
    name: str
    steps: tuple[StepSpec, ...]
    configs: dict[str, Any]
    seeds: Sequence[int]  # seeds[k] is replicate k's seed (a lazy Seeds in a run)
    plugins: list[Plugin]
    tasks: Collection[tuple[str, int]]  # (condition, replicate) in the order to start them
    want_events: bool = True  # publish fine-grained events (someone is listening)
    capture: bool = True  # capture print() output as Output events
    lines_only: bool = False  # only the store listens: Output, UserEvent, ArtifactSaved only
    echo: bool = True  # captured output still reaches the terminal
    keep_output: bool = False  # keep the last step's return value (debug mode)
    reraise: bool = False  # a step's exception propagates instead of being recorded (debug)
    cache_dir: str | None = None  # where cached steps keep their outputs (core/cache.py)
    cache_limit: int | None = None  # the experiment's bound on that cache, in bytes (else the env's)
    resources: dict[str, Any] = field(default_factory=dict)  # name -> builder (core/resources.py)
    # A stop rule looks after every round of this many replicates (one per condition; 0: no
    # rule): a pool keeps its chunks within a round so that little runs past the stopping look.
    look_every: int = 0
    # Conditions whose config is a dict of scalars only: a shallow copy isolates replicates.
    flat_configs: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.flat_configs = frozenset(c for c, config in self.configs.items() if is_flat(config))


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
