"""``--set key.path=value``: overrides applied to every condition's resolved config."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError
from .folders_yaml import load_value


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"players=8"`` -> ("players", 8); the value is read as a YAML scalar or list."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {text!r}: expected key.path=value, e.g. --set players=8")
    # Under experiment.yaml's limits: an alias bomb or deep nesting on the command line
    # would otherwise hang or crash the run that copies and fingerprints the config.
    value = load_value(f"--set {key}", raw) if raw.strip() else ""
    return key, value


def _has_path(config: Any, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(config, Mapping) or part not in config:
            return False
        config = config[part]
    return True


def _keys_at(config: Any, parts: list[str]) -> list[str]:
    for part in parts:
        if not isinstance(config, Mapping) or part not in config:
            return []
        config = config[part]
    return [str(k) for k in config] if isinstance(config, Mapping) else []


def apply_overrides(configs: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set each dotted key in every condition's config (creating it where a condition
    lacks it). A key that no condition has is refused with a did-you-mean, since it is
    almost always a typo that would otherwise change nothing."""
    out = dict(configs)
    for path, value in overrides.items():
        parts = path.split(".")
        if not any(_has_path(c, parts) for c in out.values()):
            known = sorted({k for c in out.values() for k in _keys_at(c, parts[:-1])})
            close = difflib.get_close_matches(parts[-1], known, n=1)
            hint = f"; did you mean {'.'.join([*parts[:-1], close[0]])!r}?" if close else (
                f"; keys there: {', '.join(known)}" if known else "")
            raise ConfigError(f"--set {path}: no condition's config has this key{hint}")
        for condition, config in out.items():
            if not isinstance(config, dict):
                raise ConfigError(f"--set {path}: the config of {condition!r} is not a mapping")
            node = config
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ConfigError(
                        f"--set {path}: {part!r} in the config of {condition!r} is a "
                        f"{type(child).__name__}, not a mapping"
                    )
                node = child
            node[parts[-1]] = value
    return out
