"""Names of experiments and treatments: each becomes one folder name (artifacts), so none
may hold a path."""

from __future__ import annotations

from .errors import ConfigError

_SEPARATORS = ("/", "\\")


def check_name(name: object, what: str) -> str:
    """``name`` if it can be one folder name; else a ConfigError naming ``what`` and why."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{what} must be a non-empty string, got {name!r}")
    if any(sep in name for sep in _SEPARATORS):
        raise ConfigError(f"{what} {name!r} must not contain '/' or '\\': it names a folder")
    if name in (".", ".."):
        raise ConfigError(f"{what} {name!r} is not a usable name: it names a folder")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ConfigError(f"{what} {name!r} must not contain control characters")
    return name
