"""Treatments and datasources: how each condition's config is resolved."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ConfigError
from .names import check_name

BASELINE = "baseline"

_registry: dict[str, Any] = {}


def register_datasource(name: str, source: Mapping[str, Any] | Callable[[], Any]) -> None:
    """Register a config (or a function returning one) under ``name``.

    Anywhere a datasource is accepted, the name then works too.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"register_datasource: name must be a non-empty string, got {name!r}")
    if not (isinstance(source, Mapping) or callable(source)):
        raise ConfigError(
            f"register_datasource({name!r}): expected a config dict or a function returning one, "
            f"got {type(source).__name__}"
        )
    _registry[name] = source


def resolve_datasource(source: Any, where: str) -> Any:
    """Turn a datasource (dict, callable, or registered name) into a config.

    ``where`` names the condition in error messages.
    """
    if isinstance(source, str):
        if source not in _registry:
            known = ", ".join(sorted(_registry)) or "none registered"
            raise ConfigError(f"{where}: unknown datasource {source!r} (registered: {known})")
        source = _registry[source]
    if callable(source) and not isinstance(source, Mapping):
        fn = source
        try:
            source = fn()
        except Exception as exc:  # the user's loader failed: say which condition
            raise ConfigError(
                f"{where}: datasource {getattr(fn, '__name__', fn)!r} raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(source, Mapping):  # a config is a mapping, also from a function
            raise ConfigError(
                f"{where}: datasource {_function_name(fn)!r} returned {_a(source)}; "
                "it must return a mapping (dict) of config values"
            )
    if source is None:
        return {}
    if not isinstance(source, Mapping):
        raise ConfigError(f"{where}: a datasource must be a mapping (dict) of config values, got {_a(source)}")
    return copy.deepcopy(source)


def _function_name(fn: Any) -> str:
    # "module:function" as experiment.yaml writes it (folder modules have long package names).
    module = str(getattr(fn, "__module__", "") or "").rsplit(".", 1)[-1]
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{module}:{name}" if module else name


def _a(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def deep_merge(base: Any, overrides: Mapping[str, Any]) -> Any:
    """Return ``base`` with ``overrides`` merged in: nested dicts merge, anything else replaces."""
    if not isinstance(base, Mapping):
        raise ConfigError(
            f"treatment overrides need a dict config to merge into, the baseline is a "
            f"{type(base).__name__}; use Treatment(name, datasource=...) to swap the config"
        )
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class Treatment:
    """A condition compared against the baseline.

    ``Treatment(name, overrides)`` deep-merges ``overrides`` onto the baseline config;
    ``Treatment(name, datasource=other)`` replaces the config entirely (a dict, a function
    returning one, or a registered datasource name). Both may be given: the overrides then
    apply to the swapped config.
    """

    __slots__ = ("name", "overrides", "datasource")

    def __init__(
        self,
        name: str,
        overrides: Mapping[str, Any] | None = None,
        *,
        datasource: Any = None,
    ) -> None:
        check_name(name, "treatment name")
        if name == BASELINE:
            raise ConfigError(f"{BASELINE!r} is reserved for the baseline; name the treatment otherwise")
        if overrides is not None and not isinstance(overrides, Mapping):
            raise ConfigError(
                f"treatment {name!r}: overrides must be a dict, got {type(overrides).__name__}"
            )
        self.name = name
        self.overrides = dict(overrides) if overrides else {}
        self.datasource = datasource

    def resolve(self, baseline_config: Any) -> Any:
        """This treatment's config, given the baseline's resolved config."""
        where = f"treatment {self.name!r}"
        base = (
            resolve_datasource(self.datasource, where)
            if self.datasource is not None
            else baseline_config
        )
        if not self.overrides:
            return copy.deepcopy(base)
        try:
            return deep_merge(base, self.overrides)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def __repr__(self) -> str:
        parts = [repr(self.name)]
        if self.overrides:
            parts.append(repr(self.overrides))
        if self.datasource is not None:
            parts.append(f"datasource={self.datasource!r}")
        return f"Treatment({', '.join(parts)})"


_SHARED = frozenset((int, float, str, bool, type(None)))


def is_flat(value: Any) -> bool:
    """True for a dict whose values are all scalars (shared safely): ``dict.copy`` is then
    as good as :func:`fresh_copy`, at a fraction of its cost."""
    return type(value) is dict and all(type(v) in _SHARED for v in value.values())


def fresh_copy(value: Any) -> Any:
    """A cheap deep copy of plain containers, so a step that mutates its config cannot
    change what the next replicate sees. Other objects are shared as they are."""
    kind = type(value)
    # Scalars are shared rather than copied, and no comprehension frame: this runs per replicate.
    if kind is dict:
        out = value.copy()
        for k, v in value.items():
            if type(v) not in _SHARED:
                out[k] = fresh_copy(v)
        return out
    if kind is list:
        return [v if type(v) in _SHARED else fresh_copy(v) for v in value]
    if kind is set:
        return set(value)
    return value
