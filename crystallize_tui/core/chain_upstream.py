"""``--with-upstream``: find a chained experiment's producers, and run the stale ones first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .chain import attach, completed, is_chained, sources_of, unknown_producer
from .errors import ConfigError
from .fingerprint import fingerprint, fingerprint_parts


def producers(experiment: Any, find: Callable[[str], Any]) -> list[Any]:
    """The experiments ``experiment`` reads from, transitively, producers before consumers.

    ``find(name)`` returns the Experiment called ``name`` or raises ConfigError.
    """
    ordered: list[Any] = []
    seen: dict[str, Any] = {}

    def visit(current: Any, path: tuple[str, ...]) -> None:
        for source in sources_of(current.datasource).values():
            name = source.experiment
            if name in path:
                raise ConfigError(f"experiments read from each other in a cycle: "
                                  f"{' -> '.join((*path, name))}")
            if name in seen:
                continue
            try:
                producer = source.producer if source.producer is not None else find(name)
            except ConfigError as exc:  # say which experiment wanted it, where
                raise ConfigError(unknown_producer(source)
                                  or f"experiment {path[-1]!r} reads from {name!r}: {exc}") from None
            visit(producer, (*path, name))
            seen[name] = producer
            ordered.append(producer)

    visit(experiment, (experiment.name,))
    return ordered


def current_fingerprint(experiment: Any, store: Any) -> str:
    """The fingerprint a run of ``experiment`` started now (without options) would record."""
    configs = experiment.resolve_configs()
    if is_chained(experiment.datasource):
        attach(experiment.name, experiment.datasource, configs, range(experiment.replicates), store)
    return fingerprint(fingerprint_parts(configs, experiment.steps(), experiment.seed, experiment.resources))


def stale_reason(experiment: Any, store: Any) -> str | None:
    """Why ``experiment`` must run again before a consumer reads it, or None when it is fresh:
    no completed run, or its configs, code or seed changed since its latest completed run."""
    runs = store.runs(experiment.name)
    done = next((r for r in runs if completed(r.status)), None)
    if done is None:
        return "no completed run"
    if current_fingerprint(experiment, store) != done.fingerprint:
        return f"changed since its latest completed run {done.run_id}"
    return None


def stale_producers(experiment: Any, find: Callable[[str], Any], store: Any) -> list[tuple[str, str]]:
    """``(name, why)`` of each producer of ``experiment`` that is stale now (before any runs:
    a producer reading a stale one is found stale once that one has run)."""
    stale = []
    for producer in producers(experiment, find):
        producer.store = store
        reason = stale_reason(producer, store)
        if reason is not None:
            stale.append((producer.name, reason))
    return stale


def run_upstream(experiment: Any, find: Callable[[str], Any] | None = None, store: Any = None,
                 say: Callable[[str], None] = print, run: Callable[[Any, str, bool], Any] | None = None,
                 resume: bool = False) -> list[str]:
    """Run each stale producer of ``experiment`` (producers first) in ``store`` (default: the
    experiment's); the run ids it made. ``find(name)`` gives a producer named by a string
    (the CLI finds them in the workspace); producers given to from_run as Experiments need
    none. ``run(producer, why, resume)`` runs one and returns its Result (default: in this
    process; core/chain_process.py announces it to the window that launched the chain). With
    ``resume``, a stale producer whose latest run was cancelled or interrupted, unchanged
    since, continues that run (its finished replicates kept). A producer run that does not
    complete stops here with a ConfigError naming it."""
    store = experiment.store if store is None else store
    made: list[str] = []
    for producer in producers(experiment, find or _unknown(experiment)):
        producer.store = store
        reason = stale_reason(producer, store)
        if reason is None:
            say(f"upstream {producer.name}: up to date")
            continue
        again = resume and resumable(producer, store)
        if again:
            reason += f"; resuming its run {store.runs(producer.name)[0].run_id}"
        say(f"upstream {producer.name}: {reason}; running it first")
        result = (producer.run(echo=False, resume=again) if run is None
                  else run(producer, reason, again))
        if result.status != "completed" or result.errors:
            raise ConfigError(f"upstream {producer.name} run {result.run_id} ended {result.status} "
                              f"with {len(result.errors)} failed replicate(s); not running "
                              f"{experiment.name} (see crystallize show {result.run_id})")
        say(f"upstream {producer.name}: run {result.run_id} completed")
        made.append(result.run_id)
    return made


def resumable(producer: Any, store: Any) -> bool:
    """Whether the producer's latest run stopped short (cancelled, interrupted) and the
    producer is unchanged since: a resume continues it rather than starting afresh."""
    runs = store.runs(producer.name)
    if not runs or runs[0].status not in ("cancelled", "interrupted"):
        return False
    return current_fingerprint(producer, store) == runs[0].fingerprint


def _unknown(consumer: Any) -> Callable[[str], Any]:
    def find(name: str) -> Any:
        raise ConfigError(f"experiment {consumer.name!r} reads from {name!r} by name; pass "
                          "from_run(the Experiment, ...) or find= to run it first")
    return find
