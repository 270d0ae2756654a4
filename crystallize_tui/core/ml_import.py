"""Converting a crystallize-ml experiment folder (config.yaml) into an experiment.yaml, with notes
on what could not be converted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .folders_yaml import Document, parse, shown_path
from .names import check_name

LEGACY_FILE = "config.yaml"
TARGET_FILE = "experiment.yaml"
# Top-level keys of crystallize-ml's config.yaml, to tell its folders from other config files.
_LEGACY_KEYS = re.compile(r"^(steps|datasource|outputs)\s*:", re.MULTILINE)
_ML_IMPORT = re.compile(r"^\s*(from crystallize(\.\S+)? import|import crystallize\b)", re.MULTILINE)


def is_legacy_folder(folder: Path) -> bool:
    """A crystallize-ml experiment folder: config.yaml with its keys, and no experiment.yaml."""
    config = folder / LEGACY_FILE
    if (folder / TARGET_FILE).exists() or not config.is_file():
        return False
    try:
        with config.open(encoding="utf-8", errors="replace") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return bool(_LEGACY_KEYS.search(head))


def convert_hint(folder: Path) -> str:
    """The one line discovery shows for a crystallize-ml folder."""
    shown = shown_path(folder)
    return (f"{shown_path(folder / LEGACY_FILE)}: a crystallize-ml experiment (config.yaml, no "
            f"experiment.yaml); convert it with `crystallize import {shown}`")


@dataclass
class Conversion:
    """What ``convert`` made: the experiment.yaml text and the notes on what needs a hand."""

    name: str
    text: str
    notes: list[str] = field(default_factory=list)


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000).strip()
    return text.removesuffix("...").strip()  # a lone scalar is dumped as a document: "x\n..."


def _mapping(doc: Document, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if isinstance(value, list):  # crystallize-ml also takes a list of one-key maps
        merged: dict[str, Any] = {}
        for item in value:
            if not isinstance(item, dict):
                raise doc.error(f"{key}: expected a mapping or a list of mappings, got {item!r}", data, key)
            merged.update(item)
        return merged
    if value is not None and not isinstance(value, dict):
        raise doc.error(f"{key}: expected a mapping, got {value!r}", data, key)
    return value or {}


def convert(folder: Path) -> Conversion:
    """Read ``folder/config.yaml`` (crystallize-ml) and write nothing: the experiment.yaml
    this tool reads, and one note per thing that could not be carried over."""
    doc = parse(folder / LEGACY_FILE)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error(f"expected a mapping of keys (name: ..., steps: ...), got {data!r}")
    notes: list[str] = []
    lines = [f"# Converted from {LEGACY_FILE} (crystallize-ml) by `crystallize import`; see the notes"
             " it printed."]
    name = str(data.get("name") or folder.name)
    try:
        check_name(name, "experiment name")
    except ConfigError as exc:
        notes.append(f"name: {exc}; used the folder's name {folder.name!r}")
        name = folder.name
    lines.append(f"name: {_flow(str(name))}")
    if data.get("description"):
        lines.append(f"description: {_flow(str(data['description']))}")
    pipeline: list[str | dict[str, Any]] = []
    sources = _mapping(doc, data, "datasource")
    chained = {a: v for a, v in sources.items() if isinstance(v, str) and "#" in v}
    datasource: Any = {}
    if chained:
        alias, ref = next(iter(chained.items()))
        producer, artifact = ref.split("#", 1)
        datasource = {"from": producer, "artifact": artifact}
        if len(chained) > 1 or len(sources) > 1:
            notes.append(f"datasource: only {alias} ({ref}) was converted (a step reads it as its "
                         "data, path-like); one experiment reads one producer here")
    else:
        pipeline += [f"datasources:{fn}" for fn in sources.values()]
        for fn in sources.values():
            notes.append(f"datasource {fn}: became the first step datasources:{fn}; make it "
                         f"{fn}(config, ctx) (config: the condition's config) returning the data "
                         "the next step gets")
        if len(sources) > 1:
            notes.append("datasource: several inputs chain one after the other here; merge them "
                         "into one step that returns them together")
    for i, spec in enumerate(data.get("steps") or []):
        step, params = (next(iter(spec.items())) if isinstance(spec, dict) and spec else (spec, None))
        if isinstance(params, dict) and params:
            # crystallize-ml's step parameters are the function's keyword arguments: with: passes them.
            pipeline.append({"step": f"steps:{step}", "with": params})
            continue
        pipeline.append(f"steps:{step}")
        if params:
            notes.append(f"steps[{i}] {step}: its parameters {_flow(params)} are not a mapping of "
                         "keyword: value; give them as with: {keyword: value} in the pipeline")
    lines.append(f"pipeline: {_flow(pipeline or ['steps:main'])}")
    if not pipeline:
        notes.append("steps: none declared; write the pipeline's module:function steps")
    lines.append(f"datasource: {_flow(datasource)}")
    if data.get("replicates") is not None:
        lines.append(f"replicates: {_flow(data['replicates'])}")
    treatments = _mapping(doc, data, "treatments")
    if treatments:
        lines.append("treatments:")
        lines += [f"  {_flow(str(t))}: {_flow(v or {})}" for t, v in treatments.items()]
        notes.append("treatments: their values are now overrides of each condition's config, "
                     "which steps read as ctx.config[key] (crystallize-ml put them in ctx)")
    outputs = _mapping(doc, data, "outputs")
    if outputs:
        lines.append("plugins:\n  artifacts: {root_dir: artifacts}")
        for alias, spec in outputs.items():
            file_name = spec.get("file_name", alias) if isinstance(spec, dict) else alias
            notes.append(f"outputs.{alias} ({file_name}) not converted: save it in the step with "
                         f"ctx.artifacts.save({file_name!r}, data) (the artifacts plugin is on)")
    for i, hyp in enumerate(data.get("hypotheses") or []):
        hyp = hyp if isinstance(hyp, dict) else {}
        notes.append(f"hypotheses[{i}] {hyp.get('name') or ''} (verifier {hyp.get('verifier')}) not "
                     f"converted: declare hypotheses: [{{metric: {hyp.get('metrics') or 'NAME'}, "
                     "direction: greater}]; the built-in tests replace the verifier")
    for module in ("steps", "datasources", "verifiers", "outputs"):
        path = folder / f"{module}.py"
        if path.is_file() and _ML_IMPORT.search(path.read_text(encoding="utf-8", errors="replace")):
            notes.append(f"{module}.py imports crystallize-ml: drop its decorators (@pipeline_step, "
                         "@data_source, @verifier) and Artifact parameters; plain functions "
                         "fn(data, ctx) are steps here")
    for key in sorted(set(data) - {"name", "description", "datasource", "steps", "replicates",
                                   "treatments", "outputs", "hypotheses"}):
        notes.append(f"{key}: not converted (no counterpart here)")
    return Conversion(name, "\n".join(lines) + "\n", notes)


def import_folder(path: Path) -> tuple[Path, Conversion]:
    """Convert the crystallize-ml folder ``path`` (or its config.yaml) and write experiment.yaml
    beside it; refuses to replace an experiment.yaml already there."""
    path = path.expanduser()
    folder = path.parent if path.name == LEGACY_FILE else path
    if not (folder / LEGACY_FILE).is_file():
        raise ConfigError(f"{shown_path(folder)}: no {LEGACY_FILE} here (a crystallize-ml experiment "
                          "folder holds one)")
    target = folder / TARGET_FILE
    if target.exists():
        raise ConfigError(f"{shown_path(target)} already exists; remove it to convert "
                          f"{LEGACY_FILE} again")
    conversion = convert(folder)
    target.write_text(conversion.text, encoding="utf-8")
    return target, conversion
