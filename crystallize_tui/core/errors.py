"""The error types Crystallize raises: one base class, one subclass per kind of fault."""

from __future__ import annotations


class CrystallizeError(Exception):
    """Base class of every error Crystallize raises on purpose."""


class ConfigError(CrystallizeError):
    """An experiment, treatment, datasource or step is declared wrongly."""


class ResumeRefused(ConfigError):
    """A resume was refused because the experiment changed since the run ran; ``changes``
    lists what changed (a forced resume continues anyway)."""

    def __init__(self, message: str, *, run_id: str, changes: list[str]) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.changes = list(changes)


class PluginError(CrystallizeError):
    """A plugin raised in one of its hooks; the run stops and names the plugin."""


class StoreError(CrystallizeError):
    """The run store cannot be opened, read or written."""


class StoreLostError(StoreError):
    """The store file was deleted or replaced while a run was being recorded in it."""


class ReplicateError(CrystallizeError):
    """Raised by ``quick_experiment`` when every replicate failed (the function is broken)."""


class Cancelled(BaseException):
    """Raised at a cancellation point once the run was cancelled.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that a step's broad
    ``except Exception`` does not swallow the cancel and keep working.
    """
