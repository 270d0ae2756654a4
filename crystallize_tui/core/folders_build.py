"""Checking a parsed experiment.yaml and turning it into the arguments of Experiment."""

from __future__ import annotations

import inspect
import multiprocessing
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .backends import backend_class
from .backends.options import execution_of
from .cache import parse_size
from .chain import from_run, from_runs
from .errors import ConfigError
from .folders_refs import did_you_mean, required_parameters, resolve
from .folders_steps import pipeline_entry
from .folders_yaml import Document
from .hypothesis import (
    MAX_METRIC_BOUNDS,
    Hypothesis,
    check_bounds,
    check_metric_bounds,
    conflicting_bounds,
)
from .names import check_name
from .plan import check_replicates
from .plugins import ArtifactPlugin, LoggingPlugin, ParallelExecution, Plugin, SeedPlugin
from .resources import check_builder
from .seeds import DEFAULT_SEED
from .stopping import parse_stop
from .treatment import Treatment

TOP_KEYS = (
    "name", "description", "pipeline", "datasource", "replicates", "seed",
    "treatments", "hypotheses", "plugins", "run", "resources", "metric_bounds",
)
HYPOTHESIS_KEYS = ("metric", "direction", "test", "alpha", "treatments", "bounds", "anytime")
SWAP_KEYS = ("datasource", "overrides")
# datasource: {from: producer, artifact: model.pkl}: another experiment's run (core/chain.py).
FROM_KEYS = ("from", "artifact", "run", "condition", "config")
_NUMBER = (int, float)
# The run: section (where replicates run) and the YAML types of its known keys; a
# registered backend may take more settings, which it checks itself.
RUN_OPTIONS: dict[str, tuple[Any, ...]] = {
    "backend": (str,), "workers": (int,), "grace": _NUMBER, "start_method": (str, None),
    "concurrency": (int,),
}
# The run: section's stop rule (core/stopping.py): "decided" or "width=0.02", and the cap.
STOP_OPTIONS: dict[str, tuple[Any, ...]] = {"stop": (str,), "max_replicates": (int,),
                                             "correction": (str,)}
# Per plugin: each option and the YAML types it accepts (None: may be null).
PLUGIN_OPTIONS: dict[str, dict[str, tuple[Any, ...]]] = {
    "parallel": {"max_workers": (int, None), "kind": (str,), "start_method": (str, None), "grace": _NUMBER,
                 "max_concurrency": (int, None)},
    "seed": {"auto_seed": (bool,)},
    "logging": {"verbose": (bool,)},
    "artifacts": {"root_dir": (str,), "versioned": (bool,)},
    "dask": {"address": (str, None), "workers": (int, None), "timeout": _NUMBER, "grace": _NUMBER},
}


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _is(value: Any, types: tuple[Any, ...]) -> bool:
    if value is None:
        return None in types
    if isinstance(value, bool):  # YAML true is not a number
        return bool in types
    return any(t is not None and isinstance(value, t) for t in types)


def check_keys(doc: Document, mapping: dict[Any, Any], allowed: tuple[str, ...] | list[str], where: str) -> None:
    """Every key of ``mapping`` is one of ``allowed``; else name it and the closest match."""
    for key in mapping:
        if key not in allowed:
            raise doc.error(
                f"{where}unknown key {key!r}{did_you_mean(key, allowed)}; "
                f"allowed keys: {', '.join(allowed)}",
                mapping, key,
            )


def experiment_arguments(doc: Document, folder: Path) -> dict[str, Any]:
    """The keyword arguments of Experiment that the document declares."""
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error(f"expected a mapping of keys (name: ..., pipeline: ...), got a {_kind(data)}")
    check_keys(doc, data, TOP_KEYS, "")
    seed = _seed(doc, data)
    treatments = _treatments(doc, folder, data.get("treatments"))
    metric_bounds = _metric_bounds(doc, data)
    return {
        "name": _name(doc, data, folder),
        "description": _text(doc, data, "description"),
        "pipeline": _pipeline(doc, folder, data),
        "datasource": _datasource(doc, folder, data.get("datasource"), "datasource", data, "datasource"),
        "replicates": _replicates(doc, data),
        "seed": seed,
        "treatments": treatments,
        "hypotheses": _hypotheses(doc, folder, data.get("hypotheses"), [t.name for t in treatments],
                                  metric_bounds),
        "metric_bounds": metric_bounds,
        "plugins": _plugins(doc, folder, data.get("plugins"), seed),
        "execution": _run_section(doc, data),
        "resources": _resources(doc, folder, data),
        **_stop_settings(doc, data),
        "cache_limit": _cache_limit(doc, data),
    }


def _cache_limit(doc: Document, data: dict[str, Any]) -> int | None:
    """``run: {cache_limit: 500MB}``: the step cache's bound for this experiment (core/cache.py)."""
    section = data.get("run")
    if not isinstance(section, dict) or "cache_limit" not in section:
        return None
    try:
        return parse_size(section["cache_limit"], "run.cache_limit")
    except ConfigError as exc:
        raise doc.error(str(exc), section, "cache_limit") from None


def _resources(doc: Document, folder: Path, data: dict[str, Any]) -> dict[str, Any]:
    """``resources: {model: models:load_model}``: shared objects (core/resources.py)."""
    value = data.get("resources")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise doc.error(f"resources: expected a mapping of name: module:function, got {_kind(value)} "
                        f"{value!r}", data, "resources")
    built = {}
    for name, ref in value.items():
        fn = resolve(doc, folder, ref, f"resources.{name}", value, name)
        try:
            built[check_builder(name, fn)] = fn
        except ConfigError as exc:
            raise doc.error(f"resources.{name}: {exc}", value, name) from None
    return built


def _stop_settings(doc: Document, data: dict[str, Any]) -> dict[str, Any]:
    """``run: {stop: decided, max_replicates: 500}``: the experiment's stop rule (core/stopping.py)."""
    section = data.get("run")
    if not isinstance(section, dict) or not any(k in section for k in STOP_OPTIONS):
        return {}
    for key, kinds in STOP_OPTIONS.items():
        if key in section and not _is(section[key], kinds):
            names = " or ".join(t.__name__ for t in kinds)
            raise doc.error(f"run.{key}: expected {names}, got {_kind(section[key])} "
                            f"{section[key]!r}", section, key)
    try:
        parse_stop(section.get("stop"), section.get("max_replicates"), section.get("correction"))
    except ConfigError as exc:
        key = next(k for k in ("stop", "max_replicates", "correction") if k in section)
        if "correction" in section and str(exc).startswith("correction"):
            key = "correction"
        raise doc.error(f"run.{key}: {exc}", section, key) from None
    return {"stop": section.get("stop"), "max_replicates": section.get("max_replicates"),
            "correction": section.get("correction")}


def _run_section(doc: Document, data: dict[str, Any]) -> dict[str, Any] | None:
    """``run: {backend: processes, workers: 4}``: the experiment's default run options."""
    if "run" not in data:
        return None
    value = data["run"]
    if not isinstance(value, dict):
        raise doc.error(f"run: expected a mapping like {{backend: processes, workers: 4}}, got "
                        f"{_kind(value)} {value!r}", data, "run")
    section = value  # the mapping as read: errors point at its lines
    value = {k: v for k, v in value.items() if k not in STOP_OPTIONS and k != "cache_limit"}
    if not value:  # only a stop rule: replicates run where the plugins (or the default) say
        return None
    for older in ("parallel", "dask"):
        if isinstance(data.get("plugins"), dict) and older in data["plugins"]:
            why = " (plugins.parallel is the older spelling)" if older == "parallel" else ""
            raise doc.error(f"run: and plugins.{older} both say where replicates run; keep only "
                            f"run:{why}", data, "run")
    for key, val in value.items():
        if key in RUN_OPTIONS and not _is(val, RUN_OPTIONS[key]):
            kinds = " or ".join("null" if t is None else t.__name__ for t in RUN_OPTIONS[key])
            raise doc.error(f"run.{key}: expected {kinds}, got {_kind(val)} {val!r}", section, key)
    try:
        backend_class(value.get("backend", "serial"))
    except ConfigError as exc:
        raise doc.error(f"run.backend: {exc}", section, "backend") from None
    try:
        return execution_of(value, "run")
    except ConfigError as exc:  # point at the setting the message names
        key = next((k for k in value if k != "backend" and re.search(rf"\b{re.escape(str(k))}\b", str(exc))),
                   None)
        raise doc.error(str(exc), section if key else data, key or "run") from None


def _name(doc: Document, data: dict[str, Any], folder: Path) -> str:
    name = data.get("name")
    if name is None:
        return folder.name
    if not isinstance(name, str) or not name.strip():
        raise doc.error(f"name: expected a non-empty string, got {name!r}", data, "name")
    try:
        return check_name(name, "experiment name")
    except ConfigError as exc:
        raise doc.error(f"name: {exc}", data, "name") from None


def _text(doc: Document, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise doc.error(f"{key}: expected a string, got {_kind(value)} {value!r}", data, key)
    return value or ""


def _replicates(doc: Document, data: dict[str, Any]) -> int:
    value = data.get("replicates", 1)
    if not _is(value, (int,)) or value < 1:
        raise doc.error(f"replicates: expected a whole number >= 1, got {value!r}", data, "replicates")
    try:
        return check_replicates(value)
    except ConfigError as exc:
        raise doc.error(str(exc), data, "replicates") from None


def _seed(doc: Document, data: dict[str, Any]) -> int | None:
    value = data.get("seed")
    if value is not None and not _is(value, (int,)):
        raise doc.error(f"seed: expected an integer, got {_kind(value)} {value!r}", data, "seed")
    return value


def _pipeline(doc: Document, folder: Path, data: dict[str, Any]) -> list[Callable[..., Any]]:
    steps = data.get("pipeline")
    if "pipeline" not in data:
        raise doc.error("pipeline: missing; list the steps as [module:function, ...]", data)
    if not isinstance(steps, list) or not steps:
        raise doc.error(
            f"pipeline: expected a non-empty list of \"module:function\" steps (or "
            f"{{step: module:function, with: {{...}}}}), got {steps!r}",
            data, "pipeline",
        )
    return [pipeline_entry(doc, folder, steps, i) for i in range(len(steps))]


def _datasource(doc: Document, folder: Path, value: Any, what: str, container: Any, key: Any) -> Any:
    """A config: an inline mapping, null, a zero-argument "module:function" (kept uncalled),
    or (the experiment's own datasource only) ``{from: experiment, ...}``: a chained run."""
    if isinstance(value, dict) and "from" in value:
        if what != "datasource":
            raise doc.error(f"{what}: `from:` reads another experiment's run only in the top-level "
                            "datasource; choose the producer condition there with `condition: "
                            "{treatment: producer_condition}`", container, key)
        return _from_run(doc, value)
    if value is None or isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise doc.error(
            f"{what}: expected a mapping or \"module:function\", got {_kind(value)} {value!r}",
            container, key,
        )
    fn = resolve(doc, folder, value, what, container, key)
    needs = required_parameters(fn)
    if needs:
        raise doc.error(
            f"{what}: {value!r} must take no arguments (it is called to get the config), "
            f"but needs {', '.join(needs)}",
            container, key,
        )
    return fn


def _from_run(doc: Document, value: dict[str, Any]) -> Any:
    """``datasource: {from: producer, artifact: model.pkl, run: RUN_ID, condition: ..., config: {...}}``,
    or several producers: ``{from: {temp: {experiment: t, artifact: a.json}, ...}, config: {...}}``."""
    if isinstance(value["from"], dict):
        check_keys(doc, value, ("from", "config"), "datasource: ")
        _check_types(doc, value, "datasource", {"config": (dict, None)})
        inputs = value["from"]
        if not inputs:
            raise doc.error("datasource.from: name at least one input: {NAME: {experiment: ..., "
                            "artifact: ...}}", value, "from")
        sources = {}
        for alias, entry in inputs.items():
            where = f"datasource.from.{alias}"
            if not isinstance(entry, dict):
                raise doc.error(f"{where}: expected a mapping like {{experiment: NAME, artifact: FILE}}, "
                                f"got {_kind(entry)} {entry!r}", inputs, alias)
            if "experiment" not in entry:
                raise doc.error(f"{where}: missing key 'experiment'", inputs, alias)
            sources[alias] = _one_source(doc, entry, where, "experiment")
        try:
            return from_runs(value.get("config"), **sources)
        except ConfigError as exc:
            raise doc.error(f"datasource.from: {exc}", value, "from") from None
    check_keys(doc, value, FROM_KEYS, "datasource: ")
    _check_types(doc, value, "datasource", {"config": (dict, None)})
    source = _one_source(doc, value, "datasource", "from")
    return replace(source, config=dict(value.get("config") or {}))


def _check_types(doc: Document, mapping: dict[str, Any], where: str, kinds: dict[str, tuple[Any, ...]]) -> None:
    for key, allowed in kinds.items():
        if key in mapping and not _is(mapping[key], allowed):
            names = " or ".join("null" if t is None else ("mapping" if t is dict else t.__name__)
                                for t in allowed)
            raise doc.error(f"{where}.{key}: expected {names}, got {_kind(mapping[key])} "
                            f"{mapping[key]!r}", mapping, key)


def _one_source(doc: Document, entry: dict[str, Any], where: str, name_key: str) -> Any:
    """One producer: ``{<name_key>: NAME, artifact: ..., run: ..., condition: ...}``."""
    if name_key == "experiment":
        check_keys(doc, entry, ("experiment", "artifact", "run", "condition"), f"{where}: ")
    _check_types(doc, entry, where, {name_key: (str,), "artifact": (str, None), "run": (str, None),
                                     "condition": (str, dict, None)})
    condition = entry.get("condition")
    if isinstance(condition, dict) and not all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in condition.items()):
        raise doc.error(f"{where}.condition: expected a mapping of consumer condition: producer "
                        f"condition, got {condition!r}", entry, "condition")
    try:
        source = from_run(entry[name_key], entry.get("artifact"), entry.get("run"), condition=condition)
        line = doc.line(entry, name_key)
        at = f"{doc.shown}:{line}" if line is not None else doc.shown
        return replace(source, declared=(str(doc.path), f"{at}: {where}.{name_key}"))
    except ConfigError as exc:
        bad = next((k for k in ("artifact", "run") if k in entry and str(entry[k]) in str(exc)), name_key)
        raise doc.error(f"{where}.{bad}: {exc}", entry, bad) from None


def _treatments(doc: Document, folder: Path, value: Any) -> list[Treatment]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise doc.error(
            f"treatments: expected a mapping of name: overrides, got {_kind(value)}", doc.data, "treatments"
        )
    return [_treatment(doc, folder, value, name) for name in value]


def _treatment(doc: Document, folder: Path, table: dict[Any, Any], name: Any) -> Treatment:
    if not isinstance(name, str):
        raise doc.error(f"treatments: a name must be a string, got {_kind(name)} {name!r}", table, name)
    where, entry = f"treatments.{name}", table[name]
    if entry is not None and not isinstance(entry, dict):
        raise doc.error(f"{where}: expected a mapping of overrides, got {_kind(entry)} {entry!r}", table, name)
    entry = entry or {}
    # {datasource: ..., overrides: ...} swaps the config; any other mapping is overrides.
    swap = "datasource" in entry or set(entry) == {"overrides"}
    overrides, source = entry, None
    if swap:
        check_keys(doc, entry, SWAP_KEYS, f"{where}: ")
        overrides = entry.get("overrides")
        if overrides is not None and not isinstance(overrides, dict):
            raise doc.error(f"{where}.overrides: expected a mapping, got {_kind(overrides)}", entry, "overrides")
        source = _datasource(doc, folder, entry.get("datasource"), f"{where}.datasource", entry, "datasource")
    try:
        return Treatment(name, overrides, datasource=source)
    except ConfigError as exc:
        raise doc.error(f"{where}: {exc}", table, name) from None


def _test_function(doc: Document, folder: Path, ref: str, where: str, item: dict[str, Any]) -> Callable[..., Any]:
    """A hypothesis' own test: a function taking the two samples (baseline, treatment)."""
    fn = resolve(doc, folder, ref, where, item, "test")
    try:
        inspect.signature(fn).bind(None, None)
    except TypeError:
        raise doc.error(f"{where}: {ref!r} must take the two samples (baseline, treatment) as its "
                        "first two arguments", item, "test") from None
    except ValueError:  # no signature to check (a builtin)
        pass
    return fn


def _metric_bounds(doc: Document, data: dict[str, Any]) -> dict[str, tuple[float, float, str]]:
    """``metric_bounds: {score: [0, 100]}`` (or ``{score: {bounds: [0, 100], anytime: betting}}``):
    bounds of metrics with or without a hypothesis, each error pointed at its entry's line."""
    value = data.get("metric_bounds")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise doc.error(f"metric_bounds: expected a mapping of metric: [low, high], got {_kind(value)}",
                        data, "metric_bounds")
    if len(value) > MAX_METRIC_BOUNDS:
        raise doc.error(f"metric_bounds: {len(value)} metrics, at most {MAX_METRIC_BOUNDS}",
                        data, "metric_bounds")
    out = {}
    for metric, spec in value.items():
        try:
            out.update(check_metric_bounds({metric: spec}))
        except ConfigError as exc:
            raise doc.error(str(exc), value, metric) from None
    return out


def _hypotheses(doc: Document, folder: Path, value: Any, treatments: list[str],
                metric_bounds: dict[str, tuple[float, float, str]] | None = None) -> list[Hypothesis]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise doc.error(
            f"hypotheses: expected a list of {{metric: ..., direction: ...}}, got {_kind(value)}",
            doc.data, "hypotheses",
        )
    hypotheses = [_hypothesis(doc, folder, value, i, treatments) for i in range(len(value))]
    clash = conflicting_bounds(hypotheses, metric_bounds)
    if clash is not None:
        raise doc.error(f"hypotheses[{clash[0]}]: {clash[1]}", value, clash[0])
    return hypotheses


def _hypothesis(doc: Document, folder: Path, items: list[Any], i: int, treatments: list[str]) -> Hypothesis:
    where, item = f"hypotheses[{i}]", items[i]
    if not isinstance(item, dict):
        raise doc.error(f"{where}: expected a mapping like {{metric: win, direction: greater}}, got {item!r}", items, i)
    check_keys(doc, item, HYPOTHESIS_KEYS, f"{where}: ")
    if "metric" not in item:
        raise doc.error(f"{where}: missing key 'metric'", items, i)
    names = item.get("treatments") or []
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise doc.error(f"{where}.treatments: expected a list of treatment names, got {names!r}", item, "treatments")
    for name in names:
        if name not in treatments:
            raise doc.error(
                f"{where}.treatments: unknown treatment {name!r}{did_you_mean(name, treatments)}; "
                f"treatments: {', '.join(treatments) or 'none'}",
                item, "treatments",
            )
    if item.get("bounds") is not None:  # pointed at its own line: [low, high] of the metric's values
        try:
            check_bounds(item["bounds"], f"{where}.bounds")
        except ConfigError as exc:
            raise doc.error(str(exc), item, "bounds") from None
    test = item.get("test", "auto")
    if isinstance(test, str) and ":" in test:  # your own test: "module:function" of the folder or lib/
        test = _test_function(doc, folder, test, f"{where}.test", item)
    try:
        return Hypothesis(**{**item, "test": test, "treatments": tuple(names)})
    except ConfigError as exc:
        raise doc.error(f"{where}: {exc}", items, i) from None


def _plugins(doc: Document, folder: Path, value: Any, seed: int | None) -> list[Plugin]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise doc.error(f"plugins: expected a mapping of plugin: options, got {_kind(value)}", doc.data, "plugins")
    check_keys(doc, value, tuple(PLUGIN_OPTIONS), "plugins: ")
    return [_plugin(doc, folder, value, name, seed) for name in value]


def _plugin(doc: Document, folder: Path, table: dict[str, Any], name: str, seed: int | None) -> Plugin:
    where, options = f"plugins.{name}", table[name] or {}
    if not isinstance(options, dict):
        raise doc.error(f"{where}: expected a mapping of options, got {_kind(options)} {options!r}", table, name)
    allowed = PLUGIN_OPTIONS[name]
    check_keys(doc, options, tuple(allowed), f"{where}: ")
    for key, val in options.items():
        if not _is(val, allowed[key]):
            kinds = " or ".join("null" if t is None else t.__name__ for t in allowed[key])
            raise doc.error(f"{where}.{key}: expected {kinds}, got {_kind(val)} {val!r}", options, key)
    try:
        return _make_plugin(name, options, folder, seed)
    except ConfigError as exc:
        raise doc.error(f"{where}: {exc}", table, name) from None


def _make_plugin(name: str, options: dict[str, Any], folder: Path, seed: int | None) -> Plugin:
    if name == "parallel":
        method = options.get("start_method")
        if method is not None and method not in multiprocessing.get_all_start_methods():
            methods = ", ".join(multiprocessing.get_all_start_methods())
            raise ConfigError(f"start_method must be one of {methods}, got {method!r}")
        return ParallelExecution(**options)
    if name == "dask":
        from .backends.dask_plugin import DaskExecution

        return DaskExecution(options.get("address"), options.get("workers"),
                             timeout=options.get("timeout"), grace=options.get("grace", 2.0))
    if name == "seed":
        # The plugin carries the experiment's seed, so both agree on the base seed.
        return SeedPlugin(seed=DEFAULT_SEED if seed is None else seed, **options)
    if name == "logging":
        return LoggingPlugin(**options)
    root = folder / options.get("root_dir", "artifacts")  # an absolute root_dir wins in "/"
    return ArtifactPlugin(root_dir=root, versioned=options.get("versioned", True))
