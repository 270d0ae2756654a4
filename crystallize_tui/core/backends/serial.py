"""The serial backend: every replicate in the calling thread, one after the other."""

from __future__ import annotations

from collections.abc import Iterator

from .. import capture as capture_mod
from .. import resources as resources_mod
from ..cancel import CancelToken
from ..errors import ConfigError
from ..plan import ReplicateHooks, RunPlan
from ..replicate import replicate_runner
from ..result import ReplicateResult
from .base import Backend, Publish


class SerialBackend(Backend):
    """No workers: the cheapest backend, and the one ``debug()`` uses."""

    name = "serial"

    def __init__(self, *, workers: int = 1) -> None:
        if workers != 1:
            raise ConfigError(
                f"backend 'serial' runs one replicate at a time: workers must be 1, got {workers!r}"
                " (use backend 'threads' or 'processes' for more)"
            )
        super().__init__(workers=1)

    def run(self, plan: RunPlan, token: CancelToken, publish: Publish) -> Iterator[ReplicateResult]:
        run = replicate_runner(plan, publish, token, ReplicateHooks.of(plan.plugins))
        captured = plan.capture
        if captured:
            capture_mod.install()
        resources = resources_mod.open_for(plan)
        try:
            for treatment, k in plan.tasks:
                if token.cancelled:
                    return
                yield run(treatment, k)
        finally:
            resources.close()
            if captured:
                capture_mod.uninstall()
