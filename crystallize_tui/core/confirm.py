"""Confirm on fresh seeds: a confirmatory run's disjoint seed stream, its lock, and what changed since."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .fingerprint import _digest, canonical_json, describe_changes, fingerprint_parts
from .hypothesis import Hypothesis, hypothesis_record, metric_bounds_record, stored_metric_bounds
from .plan import Seeds

if TYPE_CHECKING:
    from .experiment import Experiment
    from .store import Store

EXPLORATORY = "exploratory"
CONFIRMATORY = "confirmatory"
# Streams tried past the next unused one before giving up: each is a fresh hash input, so
# a clash (two 63-bit hashes equal) is already beyond any realistic run count.
MAX_STREAM_TRIES = 64
# Options of run() a confirmatory run refuses: it tests the experiment as declared, afresh.
REFUSED_OPTIONS = {
    "resume": "a confirmatory run starts afresh (continue an interrupted one with "
              "`crystallize run NAME --resume`: it keeps its fresh seeds)",
    "force": "a confirmatory run is never a forced resume",
    "overrides": "a confirmatory run tests the experiment as declared; --set is for "
                 "exploratory runs",
}


def check_confirmable(experiment: Experiment, options: Mapping[str, Any]) -> None:
    """A ConfigError unless ``experiment`` can be confirmed with ``options``."""
    for key, why in REFUSED_OPTIONS.items():
        if options.get(key):
            raise ConfigError(f"confirm: option {key!r} is refused: {why}")
    if not experiment.hypotheses:
        raise ConfigError(f"confirm: experiment {experiment.name!r} declares no hypotheses; a "
                          "confirmatory run tests declared ones (add `hypotheses:` to its "
                          "experiment.yaml, or hypotheses=[...] in Python)")
    if experiment.store is None:
        raise ConfigError("confirm needs a store: its fresh seeds are checked against the "
                          "experiment's earlier runs there (this experiment has store=None)")


def hypotheses_json(hypotheses: Iterable[Hypothesis]) -> list[dict[str, Any]]:
    """Hypotheses as stored in runs.hypotheses (what the lock fingerprints)."""
    return json.loads(json.dumps([hypothesis_record(h) for h in hypotheses]))


def lock_fingerprint(parts: Mapping[str, str], hypotheses: list[dict[str, Any]],
                     metric_bounds: Mapping[str, Any] | None = None) -> str:
    """One hash over the run's fingerprint parts (configs, step and module code, base
    seed), its hypotheses and its metric bounds (stored record; they decide what its anytime
    rows assume): what a confirmatory run locks before its first replicate. Without metric
    bounds the hash is the one runs locked before they existed."""
    locked: dict[str, Any] = {"parts": dict(parts), "hypotheses": hypotheses}
    if metric_bounds:
        locked["metric_bounds"] = dict(metric_bounds)
    return _digest(canonical_json(locked))


def used_seeds(store: Store, experiment: str) -> set[int]:
    """Every seed an earlier run of ``experiment`` used or would use: those stored with
    its replicates, and those its plan holds (an unfinished run resumes with them)."""
    used = store.experiment_seeds(experiment)
    for record in store.runs(experiment):
        used.update(Seeds(record.base_seed, record.replicates, record.seed_stream))
    return used


def fresh_stream(store: Store, experiment: str, base_seed: int, replicates: int) -> int:
    """A seed stream whose first ``replicates`` seeds no earlier run of ``experiment``
    used: the next after the highest stream stored, checked seed by seed."""
    used = used_seeds(store, experiment)
    stream = max((r.seed_stream for r in store.runs(experiment)), default=0) + 1
    for _ in range(MAX_STREAM_TRIES):
        if used.isdisjoint(Seeds(base_seed, replicates, stream)):
            return stream
        stream += 1
    raise ConfigError(f"confirm: no seed stream of base seed {base_seed} avoids the "
                      f"{len(used)} seeds earlier runs of {experiment!r} used")


def lock_run(store: Store, experiment: str, base_seed: int, replicates: int,
             parts: Mapping[str, str], hypotheses: Iterable[Hypothesis],
             metric_bounds: Mapping[str, tuple[float, float, str]] | None = None) -> dict[str, Any]:
    """The row columns of a new confirmatory run: its kind, fresh seed stream and lock."""
    stream = fresh_stream(store, experiment, base_seed, replicates)
    return {"kind": CONFIRMATORY, "seed_stream": stream,
            "lock_fingerprint": lock_fingerprint(parts, hypotheses_json(hypotheses),
                                                 bounds_json(metric_bounds))}


def bounds_json(metric_bounds: Mapping[str, tuple[float, float, str]] | None) -> dict[str, Any]:
    """Metric bounds as stored in runs.metric_bounds (what the lock fingerprints)."""
    return json.loads(json.dumps(metric_bounds_record(metric_bounds or {})))


def changes_since_lock(experiment: Experiment, row: Mapping[str, Any]) -> list[str]:
    """What differs between a stored confirmatory run's lock (its ``runs`` row) and
    ``experiment`` now: configs, step and module code, hypotheses; one line each."""
    stored_parts = json.loads(row["fingerprint_parts"])
    stored_hypotheses = json.loads(row["hypotheses"])
    stored_bounds = bounds_json(stored_metric_bounds(row.get("metric_bounds")))
    changes: list[str] = []
    if lock_fingerprint(stored_parts, stored_hypotheses, stored_bounds) != row.get("lock_fingerprint"):
        changes.append("the run's stored record no longer matches its lock (edited in the store)")
    names = [c for c in json.loads(row["conditions"]) if c in experiment.conditions]
    configs = experiment.resolve_configs(names)
    parts = fingerprint_parts(configs, experiment.steps(), row["base_seed"], experiment.resources)
    changes += describe_changes(stored_parts, parts, json.loads(row["configs"]), configs)
    now = hypotheses_json(experiment.hypotheses)
    for h in stored_hypotheses:
        if h not in now:
            changes.append(f"hypothesis removed or changed: {_describe(h)}")
    for h in now:
        if h not in stored_hypotheses:
            changes.append(f"hypothesis added or changed: {_describe(h)}")
    bounds_now = bounds_json(experiment.metric_bounds)
    for metric in sorted(set(stored_bounds) | set(bounds_now)):
        if stored_bounds.get(metric) != bounds_now.get(metric):
            was, now_is = (_bounds_words(b.get(metric)) for b in (stored_bounds, bounds_now))
            changes.append(f"metric_bounds of {metric!r} changed: {was} -> {now_is}")
    return changes


def _bounds_words(spec: dict[str, Any] | None) -> str:
    if spec is None:
        return "none"
    low, high = spec["bounds"]
    return f"[{low:g}, {high:g}] {spec['anytime']}"


def _describe(h: dict[str, Any]) -> str:
    try:
        return Hypothesis(**{**h, "treatments": tuple(h.get("treatments", ()))}).describe()
    except (ConfigError, TypeError):
        return canonical_json(h)


def describe_run(row: Mapping[str, Any], experiment: Experiment | None,
                 missing: str | None = None) -> list[str]:
    """Report lines on a run's kind; for a confirmatory run, its seeds and whether anything
    changed since its lock (``experiment`` as it is now; None with ``missing`` saying why
    it could not be loaded)."""
    kind = row.get("kind") or EXPLORATORY
    if kind != CONFIRMATORY:
        return [f"{EXPLORATORY} run (seed stream {row.get('seed_stream') or 0})"]
    lines = [f"{CONFIRMATORY} run: fresh seeds (seed stream {row['seed_stream']}, disjoint from "
             f"every earlier run of {row['experiment']}), locked {row['lock_fingerprint']}"]
    if experiment is None:
        return [*lines, f"changes since the lock: not checked ({missing})"]
    changes = changes_since_lock(experiment, row)
    if not changes:
        return [*lines, "unchanged since the lock (configs, code, hypotheses)"]
    return [*lines, "CHANGED since the lock:", *(f"  - {c}" for c in changes)]


def verdicts_hold(result: Any) -> bool:
    """Did every declared hypothesis come out supported (and every replicate finish)?"""
    verdicts = result.hypotheses
    return (bool(verdicts) and all(v.verdict == "supported" for v in verdicts)
            and not result.errors and result.complete)
