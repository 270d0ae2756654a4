"""The step context ``ctx`` a step receives: config, seed, RNGs, metrics, emit, log, cancel, resources."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from typing import Any

from . import events as ev
from .cancel import CancelToken
from .metrics import Metrics
from .resources import Resources, resources_for
from .seeds import DEFAULT_SEED, derive_seed

Emit = Callable[[ev.Event], None]
_new = object.__new__


class StepContext:
    """What a step sees of its replicate.

    ``ctx.rng`` and ``ctx.np_rng`` are built on first use, so a step that never draws
    random numbers pays nothing for them.
    """

    __slots__ = (
        "config",
        "treatment",
        "replicate",
        "seed",
        "run_id",
        "experiment",
        "metrics",
        "artifacts_root",
        "_emit",
        "_token",
        "_echo",
        "_rng",
        "_np_rng",
        "_artifacts",
    )

    def __init__(
        self,
        config: Any,
        *,
        treatment: str,
        replicate: int,
        seed: int,
        run_id: str = "standalone",
        experiment: str = "experiment",
        emit: Emit | None = None,
        token: CancelToken | None = None,
        echo: bool = False,
    ) -> None:
        self.config = config
        self.treatment = treatment
        self.replicate = replicate
        self.seed = seed
        self.run_id = run_id
        self.experiment = experiment
        self._emit = emit
        self._token = token if token is not None else CancelToken()
        self._echo = echo
        self._rng: random.Random | None = None
        self._np_rng: Any = None
        self._artifacts: Any = None
        self.artifacts_root = None
        if emit is None:
            self.metrics = Metrics()
        else:
            self.metrics = Metrics(self._metric_added)

    # -- randomness ---------------------------------------------------------------
    @property
    def rng(self) -> random.Random:
        """A ``random.Random`` seeded with this replicate's seed."""
        if self._rng is None:
            self._rng = random.Random(self.seed)
        return self._rng

    @property
    def np_rng(self) -> Any:
        """A ``numpy.random.Generator`` seeded with this replicate's seed (needs numpy)."""
        if self._np_rng is None:
            import numpy as np

            self._np_rng = np.random.default_rng(self.seed)
        return self._np_rng

    def random_state(self) -> tuple[Any, Any]:
        """The state of ``ctx.rng`` and ``ctx.np_rng`` (None for one not made yet): the
        step cache keys a random step by it and restores it on a hit."""
        rng = None if self._rng is None else self._rng.getstate()
        np_rng = None if self._np_rng is None else self._np_rng.bit_generator.state
        return rng, np_rng

    def set_random_state(self, rng: Any, np_rng: Any) -> None:
        """Put ``ctx.rng`` / ``ctx.np_rng`` in a state ``random_state`` gave (None: as is)."""
        if rng is not None:
            self.rng.setstate(rng)
        if np_rng is not None:
            self.np_rng.bit_generator.state = np_rng

    # -- live visibility ----------------------------------------------------------
    def emit(self, kind: str, **data: Any) -> None:
        """Send a live event that every subscriber sees while the step still runs.

        Also a cancellation point: raises :class:`Cancelled` once the run was cancelled.
        """
        self._token.check()
        if self._emit is not None:
            self._emit(
                ev.UserEvent(
                    self.run_id, self.treatment, self.replicate, time.monotonic(), kind, data
                )
            )

    def log(self, message: str) -> None:
        """Log a line for this replicate (an ``Output`` event with stream "log")."""
        text = str(message)
        if self._emit is not None:
            self._emit(
                ev.Output(self.run_id, self.treatment, self.replicate, time.monotonic(), "log", text)
            )
        if self._echo:
            sys.__stderr__.write(f"[{self.treatment} #{self.replicate}] {text}\n")

    def _metric_added(self, name: str, value: Any) -> None:
        self._token.check()
        self._emit(
            ev.MetricRecorded(
                self.run_id, self.treatment, self.replicate, time.monotonic(), name, value
            )
        )

    # -- cancellation -------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        """True once the run was cancelled; a long step may poll this and return early."""
        return self._token.hard_cancelled  # a stop rule lets running replicates finish

    @property
    def stopping(self) -> bool:
        """True once the run starts no new replicate (a stop rule held, a stop at the current
        look, or a cancel); unless ``cancelled``, this replicate still finishes and is kept."""
        return self._token.cancelled

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the run was cancelled."""
        self._token.check()

    # -- resources shared across replicates -----------------------------------------
    @property
    def resources(self) -> Resources:
        """The run's shared resources by name (``ctx.resources["model"]``), each built at its
        first use in this process and closed when the run ends (core/resources.py)."""
        return resources_for(self.run_id, self.config)

    # -- artifacts ----------------------------------------------------------------
    @property
    def artifacts(self) -> Any:
        """Artifact writer for this replicate; needs ``ArtifactPlugin`` in the plugins."""
        if self._artifacts is None:
            from .errors import ConfigError

            raise ConfigError(
                "ctx.artifacts needs ArtifactPlugin(root_dir=...) in the experiment's plugins"
            )
        return self._artifacts

    @classmethod
    def for_replicate(
        cls, config: Any, treatment: str, replicate: int, seed: int, run_id: str,
        experiment: str, emit: Emit | None, token: CancelToken, echo: bool,
    ) -> StepContext:
        """The engine's constructor, made once per replicate: positional, every argument
        given, so it costs half of ``__init__`` with its keywords and defaults."""
        ctx = _new(cls)
        ctx.config = config
        ctx.treatment = treatment
        ctx.replicate = replicate
        ctx.seed = seed
        ctx.run_id = run_id
        ctx.experiment = experiment
        ctx._emit = emit
        ctx._token = token
        ctx._echo = echo
        ctx._rng = ctx._np_rng = ctx._artifacts = ctx.artifacts_root = None
        ctx.metrics = Metrics() if emit is None else Metrics(ctx._metric_added)
        return ctx

    def __repr__(self) -> str:
        return (
            f"StepContext(treatment={self.treatment!r}, replicate={self.replicate}, "
            f"seed={self.seed})"
        )


def standalone_context(
    config: Any = None,
    *,
    seed: int = DEFAULT_SEED,
    treatment: str = "baseline",
    replicate: int = 0,
) -> StepContext:
    """A real ``ctx`` for unit-testing one step outside an experiment.

    ``seed`` is the base seed: ``ctx.seed`` equals the seed replicate ``replicate`` gets
    in an experiment with that base seed, so a test sees the same random numbers. Events
    the step emits are collected in ``ctx.events``.
    """
    collected: list[ev.Event] = []
    ctx = _StandaloneContext(
        {} if config is None else config,
        treatment=treatment,
        replicate=replicate,
        seed=derive_seed(seed, replicate),
        emit=collected.append,
    )
    ctx.events = collected
    return ctx


class _StandaloneContext(StepContext):
    __slots__ = ("events",)
