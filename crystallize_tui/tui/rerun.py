"""The launch options a stored run ran with, recovered to run it again the same way."""

from __future__ import annotations

import json
from typing import Any

from ..core.errors import CrystallizeError
from ..core.fingerprint import canonical_json
from ..core.overrides import apply_overrides
from ..core.treatment import BASELINE


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _leaves(config: Any, prefix: str = "") -> dict[str, Any]:
    """Every value of a nested mapping by its dotted path (lists are values, not mappings)."""
    if not isinstance(config, dict):
        return {prefix: config} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out.update(_leaves(value, path) if isinstance(value, dict) and value else {path: value})
    return out


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return canonical_json(a) == canonical_json(b)


def overrides_of_run(today: dict[str, Any], recorded: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The ``key=value`` overrides that turn today's resolved configs into the ones the run
    recorded: keys whose recorded value is one value in every condition and differs from
    today's somewhere. Also what they cannot explain (the experiment changed since)."""
    flat_today = {c: _leaves(today[c]) for c in recorded}
    flat_run = {c: _leaves(cfg) for c, cfg in recorded.items()}
    overrides: dict[str, Any] = {}
    for path in sorted({p for leaves in flat_run.values() for p in leaves}):
        values = [flat_run[c].get(path, _MISSING) for c in recorded]
        differs = any(not _same(flat_run[c].get(path, _MISSING), flat_today[c].get(path, _MISSING))
                      for c in recorded)
        if differs and _MISSING not in values and all(_same(v, values[0]) for v in values):
            overrides[path] = json.loads(canonical_json(values[0]))
    try:
        rebuilt = apply_overrides({c: today[c] for c in recorded}, overrides)
    except CrystallizeError as exc:
        return {}, [str(exc)]
    changed = [c for c in recorded if not _same(rebuilt[c], recorded[c])]
    notes = [f"the config of {c} changed since this run; today's is used" for c in changed]
    return overrides, notes


def options_of_run(experiment: Any, result: Any,
                   remembered: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Launch choices (replicates, treatments, seed, workers, overrides) that run ``result``
    again as it ran, and notes on what could not be recovered. ``remembered``: the choices
    it was launched with in this session of the UI, when known. Runs user code
    (datasources): call it off the UI thread."""
    if remembered is not None:
        return dict(remembered), []
    conditions = [c for c in result.conditions if c != BASELINE]
    notes: list[str] = []
    missing = [c for c in conditions if c not in experiment.conditions]
    if missing:
        notes.append(f"treatment(s) {', '.join(missing)} no longer exist; left out")
        conditions = [c for c in conditions if c not in missing]
    today = experiment.resolve_configs([BASELINE, *conditions])
    recorded = {c: cfg for c, cfg in result.configs.items() if c in today}
    overrides, more = overrides_of_run(today, recorded)
    notes.extend(more)
    # The store does not keep the worker count (results do not depend on it): the
    # experiment's own setting is used.
    choices: dict[str, Any] = {"replicates": result.replicates, "seed": result.seed,
                               "treatments": conditions, "overrides": overrides}
    return choices, notes


def describe_choices(choices: dict[str, Any]) -> str:
    """One line naming the options, as the notification shows them."""
    parts = [f"{choices.get('replicates')} replicates", f"seed {choices.get('seed')}"]
    if "treatments" in choices:
        parts.append("treatments: " + (", ".join(choices["treatments"]) or "none"))
    if "workers" in choices:
        parts.append(f"{choices['workers']} worker(s)")
    parts.extend(f"{k}={v!r}" for k, v in (choices.get("overrides") or {}).items())
    return " · ".join(parts)
