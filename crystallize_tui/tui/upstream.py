"""A chained experiment's stale producers, offered before its run: the question, and the
producers run first as run processes (core/run_process.py) while the run screen says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from ..core import events as ev
from ..core.chain import is_chained
from ..core.chain_upstream import run_upstream, stale_producers
from ..core.errors import ConfigError
from ..core.run_process import RunDied, RunEnded, RunErrored, RunProcess


@dataclass
class UpstreamStale(Message):
    """Producers of the experiment about to run are stale: ``(name, why)`` each."""

    stale: list[tuple[str, str]]
    options: dict[str, Any]


@dataclass
class UpstreamProgressed(Message):
    """A producer run before the experiment advanced: ``done`` of ``total`` replicates."""

    name: str
    done: int
    total: int


def stale_upstream(workspace: Any, experiment: Any) -> list[tuple[str, str]]:
    """The stale producers of ``experiment`` (none when it reads no other experiment).
    Loads and fingerprints them: call it off the UI thread."""
    if not is_chained(experiment.datasource):
        return []
    return stale_producers(experiment, workspace.experiment, workspace.store)


def question(consumer: str, stale: list[tuple[str, str]]) -> str:
    """"chain_data has no completed run: run it first?" (and so for several)."""
    if len(stale) == 1:
        name, why = stale[0]
        return f"{name} has {why}: run it first?" if why.startswith("no ") else f"{name} {why}: run it first?"
    listed = "\n".join(f"  - {name}: {why}" for name, why in stale)
    return f"{consumer} reads experiments that are not up to date:\n{listed}\nRun them first, then {consumer}?"


def run_producers(screen: Any, experiment: Any) -> None:
    """Run the stale producers of ``experiment`` one after the other, each as a run process
    that ``screen`` can cancel; a ConfigError when one does not complete."""
    workspace = screen.app.workspace

    def run(producer: Any) -> Any:
        process = RunProcess.launch(workspace.root, workspace.store, producer.name, {})
        screen.process = process  # c cancels the producer's run
        if screen.cancelling:
            process.cancel()
        total = done = 0
        for batch in process.batches():
            for message in batch:
                if isinstance(message, ev.RunStarted):
                    total = message.replicates * len(message.conditions)
                elif isinstance(message, ev.ReplicateFinished):
                    done += 1
                elif isinstance(message, RunEnded):
                    screen.post_message(UpstreamProgressed(producer.name, done, total))
                    return message.result
                elif isinstance(message, RunErrored):
                    raise ConfigError(f"upstream {producer.name}: {message.error}")
                elif isinstance(message, RunDied):
                    raise ConfigError(f"upstream {producer.name}: {message.describe()}")
            screen.post_message(UpstreamProgressed(producer.name, done, total))
        raise ConfigError(f"upstream {producer.name}: its run process ended without a result")

    run_upstream(experiment, workspace.experiment, workspace.store, say=lambda line: None, run=run)
