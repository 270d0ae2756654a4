"""Fingerprints of what a run computes (configs, step code, seed), and what changed between two."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

from .module_sources import module_sources
from .pipeline import StepSpec


def canonical_json(value: Any) -> str:
    """Stable JSON for hashing and storing configs (non-JSON values as their repr)."""
    return json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))


def _digest(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:16]


def step_source(fn: Callable[..., Any]) -> str | bytes:
    """The source of a step (of the function it wraps, if any); bytecode when no source."""
    if isinstance(fn, functools.partial):  # a step with YAML with: arguments: they count too
        inner = step_source(fn.func)
        fixed = canonical_json({"args": fn.args, "with": fn.keywords}).encode()
        return (inner.encode() if isinstance(inner, str) else inner) + b"\n# with " + fixed
    fn = inspect.unwrap(fn)
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        if code is None:
            return repr(fn)
        return code.co_code + repr(code.co_consts).encode()


def fingerprint_parts(configs: dict[str, Any], steps: tuple[StepSpec, ...], seed: int,
                      resources: Mapping[str, Callable[..., Any]] | None = None) -> dict[str, str]:
    """Hashes of what a run computes: configs, step code, the code of the resources the
    experiment declares (a builder that changes changes what steps get) and the modules of both."""
    parts = {"seed": str(seed)}
    for condition, config in configs.items():
        parts[f"config:{condition}"] = _digest(canonical_json(config))
    for i, step in enumerate(steps):
        parts[f"step:{i}:{step.name}"] = _digest(step_source(step.fn))
    resources = resources or {}
    for name in sorted(resources):
        builder = resources[name]
        # A callable object's repr holds its address: its class's source is what it runs.
        if not (inspect.isroutine(builder) or inspect.isclass(builder) or isinstance(builder, functools.partial)):
            builder = type(builder)
        parts[f"resource:{name}"] = _digest(step_source(builder))
    functions = [*(step.fn.func if isinstance(step.fn, functools.partial) else step.fn for step in steps),
                 *resources.values()]
    for name, source in module_sources(functions).items():
        parts[f"module:{name}"] = _digest(source)
    return parts


def fingerprint(parts: dict[str, str]) -> str:
    return _digest(canonical_json(parts))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level of dotted keys."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix or "(config)": value}


def config_changes(old: Any, new: Any) -> list[str]:
    """Dotted keys that differ between two configs, as 'key: old -> new'."""
    a, b = flatten(json.loads(canonical_json(old))), flatten(json.loads(canonical_json(new)))
    lines = []
    for key in sorted(a.keys() | b.keys()):
        if key not in b:
            lines.append(f"{key}: removed (was {a[key]!r})")
        elif key not in a:
            lines.append(f"{key}: added ({b[key]!r})")
        elif a[key] != b[key]:
            lines.append(f"{key}: {a[key]!r} -> {b[key]!r}")
    return lines


def describe_changes(
    old_parts: dict[str, str], new_parts: dict[str, str],
    old_configs: dict[str, Any], new_configs: dict[str, Any],
) -> list[str]:
    """What differs between a stored run and the experiment now, one line each."""
    changes: list[str] = []
    if old_parts.get("seed") != new_parts.get("seed"):
        changes.append(f"base seed: {old_parts.get('seed')} -> {new_parts.get('seed')}")
    old_conds = [k.split(":", 1)[1] for k in old_parts if k.startswith("config:")]
    new_conds = [k.split(":", 1)[1] for k in new_parts if k.startswith("config:")]
    for cond in old_conds:
        if cond not in new_conds:
            changes.append(f"condition {cond!r} removed")
    for cond in new_conds:
        if cond not in old_conds:
            changes.append(f"condition {cond!r} added")
        elif old_parts[f"config:{cond}"] != new_parts[f"config:{cond}"]:
            detail = "; ".join(config_changes(old_configs.get(cond), new_configs.get(cond)))
            changes.append(f"config of {cond!r} changed: {detail}")
    old_steps = {k: v for k, v in old_parts.items() if k.startswith("step:")}
    new_steps = {k: v for k, v in new_parts.items() if k.startswith("step:")}
    if list(old_steps) != list(new_steps):
        names = lambda d: [k.split(":", 2)[2] for k in d]  # noqa: E731
        changes.append(f"pipeline changed: {names(old_steps)} -> {names(new_steps)}")
    else:
        for key in old_steps:
            if old_steps[key] != new_steps[key]:
                changes.append(f"code of step {key.split(':', 2)[2]!r} changed")
    changes += _resource_changes(old_parts, new_parts)
    # Only modules known on both sides: runs stored before modules were fingerprinted have
    # none, and a module newly imported shows as a change in the module importing it.
    for key in sorted(old_parts.keys() & new_parts.keys()):
        if key.startswith("module:") and old_parts[key] != new_parts[key]:
            changes.append(f"module {key.split(':', 1)[1]} changed")
    return changes


def _resource_changes(old_parts: dict[str, str], new_parts: dict[str, str]) -> list[str]:
    old = {k.split(":", 1)[1]: v for k, v in old_parts.items() if k.startswith("resource:")}
    new = {k.split(":", 1)[1]: v for k, v in new_parts.items() if k.startswith("resource:")}
    if not old:  # a run stored before resources were fingerprinted: nothing to compare
        return []
    changes = [f"resource {name!r} removed" for name in old if name not in new]
    changes += [f"resource {name!r} added" for name in new if name not in old]
    changes += [f"code of resource {name!r} changed" for name in old if name in new and old[name] != new[name]]
    return changes
