"""Chained experiments: a datasource that reads another experiment's stored run, per condition and replicate."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, StoreError
from .names import check_name
from .pipeline import StepSpec, to_step
from .result import OK
from .stopping import is_stopped
from .treatment import BASELINE

UPSTREAM_KEY = "upstream"  # the config key naming the run a condition reads (stored, fingerprinted)


@dataclass(frozen=True)
class FromRun:
    """The declaration ``from_run(...)`` returns: which experiment's run to read, which
    artifact, which producer condition each condition reads, and the consumer's own config
    values (treatments' overrides merge onto them)."""

    experiment: str
    artifact: str | None = None
    run_id: str | None = None
    condition: str | Mapping[str, str] | None = None
    config: Mapping[str, Any] | None = None
    producer: Any = field(default=None, compare=False, repr=False)  # the Experiment, when given
    # Where an experiment.yaml names the producer: (its file, "FILE:LINE: datasource.from"), so
    # an error can point there and list the experiments of that file's workspace.
    declared: tuple[str, str] | None = field(default=None, compare=False, repr=False)


def from_run(
    experiment: Any, artifact: str | None = None, run_id: str | None = None, *,
    condition: str | Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None,
) -> FromRun:
    """A datasource reading ``experiment``'s latest completed run (or ``run_id``).

    ``experiment`` is an Experiment or its name. The consumer's replicate k reads the
    producer's replicate k; its step receives an :class:`UpstreamReplicate` (a path-like
    object: ``open(data)`` opens ``artifact``) with the producer replicate's ``metrics``,
    ``artifacts`` and ``seed``, and ``config`` (``config`` here, with the treatment's
    overrides). ``condition``: None reads the producer condition of the same name, else
    its baseline; a name reads that condition for every condition; a mapping
    ``{consumer: producer}`` chooses per condition (unmapped ones as for None).
    """
    producer = None
    if not isinstance(experiment, str):
        producer, experiment = experiment, getattr(experiment, "name", experiment)
    check_name(experiment, "from_run experiment")
    if artifact is not None:
        check_artifact(artifact)
    if run_id is not None and (not isinstance(run_id, str) or not run_id):
        raise ConfigError(f"from_run: run_id must be a run id string, got {run_id!r}")
    if condition is not None and not isinstance(condition, (str, Mapping)):
        raise ConfigError(f"from_run: condition must be a name or a mapping, got {condition!r}")
    if config is not None and not isinstance(config, Mapping):
        raise ConfigError(f"from_run: config must be a mapping, got {type(config).__name__}")
    return FromRun(experiment, artifact, run_id, condition, dict(config or {}), producer)


@dataclass(frozen=True)
class FromRuns:
    """``from_runs(...)``: several producers read at once; the step gets a mapping of them."""

    inputs: dict[str, FromRun]
    config: Mapping[str, Any] | None = None


def from_runs(config: Mapping[str, Any] | None = None, **inputs: FromRun) -> FromRuns:
    """A datasource reading several producers (a DAG): ``from_runs(temp=from_run("t", "a.json"),
    humidity=from_run("h", "a.json"))``. The step's data is a mapping ``{"temp": ..., "humidity":
    ...}`` of :class:`UpstreamReplicate` (replicate k of each), with ``.config`` as for from_run;
    ``config`` here is the consumer's own config (each input's ``config`` is not used)."""
    if not inputs:
        raise ConfigError("from_runs: name at least one input, e.g. from_runs(model=from_run(\"train\"))")
    for alias, source in inputs.items():
        check_name(alias, "from_runs input name")
        if not isinstance(source, FromRun):
            raise ConfigError(f"from_runs: input {alias!r} must be from_run(...), got {source!r}")
    if config is not None and not isinstance(config, Mapping):
        raise ConfigError(f"from_runs: config must be a mapping, got {type(config).__name__}")
    return FromRuns(dict(inputs), dict(config or {}))


def is_chained(source: Any) -> bool:
    """True for a datasource that reads other experiments' runs."""
    return isinstance(source, (FromRun, FromRuns))


def sources_of(source: Any) -> dict[str | None, FromRun]:
    """The producers a datasource reads, by input name (None: a single from_run)."""
    if isinstance(source, FromRun):
        return {None: source}
    if isinstance(source, FromRuns):
        return dict(source.inputs)
    return {}


def check_artifact(name: Any) -> str:
    """An artifact name as ctx.artifacts.save takes it: relative, never leaving its folder."""
    parts = name.replace("\\", "/").split("/") if isinstance(name, str) else []
    if not parts or name.startswith(("/", "\\")) or ":" in name or any(p in ("", ".", "..") for p in parts):
        raise ConfigError(f"artifact must be a relative file name like model.pkl, got {name!r}")
    return name


@dataclass(frozen=True)
class UpstreamReplicate:
    """What a chained experiment's step receives: one replicate of the producer's run.
    It is path-like (``open(data)``, ``pd.read_csv(data)``) when an artifact was named."""

    experiment: str
    run_id: str
    condition: str
    replicate: int
    seed: int
    metrics: dict[str, Any]
    artifacts: dict[str, Path]
    artifact: str | None
    config: Any

    @property
    def path(self) -> Path:
        """The named artifact's file."""
        if self.artifact is None:
            raise ConfigError(f"no artifact was named in from_run({self.experiment!r}); its "
                              f"artifacts: {', '.join(self.artifacts) or 'none'}")
        return self.artifacts[self.artifact]

    def __fspath__(self) -> str:
        return str(self.path)

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.path.read_text(encoding=encoding)


@dataclass
class UpstreamInput:
    """One condition's reading of a producer run, carried by the plan to every worker."""

    experiment: str
    run_id: str
    condition: str
    artifact: str | None
    # replicate -> (seed, metrics, {artifact name: path})
    replicates: dict[int, tuple[int, dict[str, Any], dict[str, str]]]

    def for_replicate(self, k: int, config: Any) -> UpstreamReplicate:
        seed, metrics, files = self.replicates[k]
        return UpstreamReplicate(self.experiment, self.run_id, self.condition, k, seed, dict(metrics),
                                 {n: Path(p) for n, p in files.items()}, self.artifact, config)


class Upstreams(dict):  # type: ignore[type-arg]
    """What a step reading several producers receives: input name -> UpstreamReplicate,
    and ``config``, the condition's own config."""

    config: Any = None


@dataclass
class UpstreamInputs:
    """Several producers' readings of one condition (from_runs)."""

    inputs: dict[str, UpstreamInput]

    def for_replicate(self, k: int, config: Any) -> Upstreams:
        out = Upstreams({a: i.for_replicate(k, config) for a, i in self.inputs.items()})
        out.config = config
        return out


class ReadUpstream:
    """The step a chained run starts with (added to the plan, not to the experiment): it
    turns the condition's config into the producer's replicate k, so every execution
    backend runs it like any step."""

    def __init__(self, inputs: dict[str, Any]) -> None:
        self.inputs = inputs
        self.__name__ = "upstream"  # the step's name in events and the run's output

    def __call__(self, config: Any, ctx: Any) -> Any:
        return self.inputs[ctx.treatment].for_replicate(ctx.replicate, config)


def reading_step(inputs: dict[str, Any]) -> StepSpec:
    """The plan's first step for the per-condition ``inputs`` that ``attach`` returned."""
    return to_step(ReadUpstream(inputs), 0)


def base_config(source: Any) -> Any:
    """The datasource the consumer's own config comes from (a chained one's ``config``)."""
    return dict(source.config or {}) if is_chained(source) else source


def completed(status: str) -> bool:
    """A run whose results a consumer may read: it completed, or its stop rule ended it."""
    return status == "completed" or is_stopped(status)


def producer_run(source: FromRun, store: Any, consumer: str) -> dict[str, Any]:
    """The stored row of the run ``source`` reads; a ConfigError naming the experiments and run."""
    where = f"experiment {consumer!r} reads from {source.experiment!r}"
    if store is None:
        raise ConfigError(f"{where}: reading another experiment's run needs a store (store=None)")
    if source.run_id is not None:
        try:
            row = store.run_row(source.run_id)
        except StoreError:
            raise ConfigError(f"{where}: no run {source.run_id!r} in {store.path}") from None
        if row["experiment"] != source.experiment:
            raise ConfigError(f"{where}: run {source.run_id!r} is a run of {row['experiment']!r}, "
                              f"not of {source.experiment!r}")
        # Named on purpose, a run some of whose replicates failed may be read (its others).
        if not completed(row["status"]) and row["status"] != "failed":
            raise ConfigError(f"{where}: run {source.run_id} is {row['status']}, not completed")
        return row
    runs = store.runs(source.experiment)
    if not runs:
        missing = unknown_producer(source)
        if missing is not None:
            raise ConfigError(missing)
        raise ConfigError(f"{where}: {source.experiment!r} has no run in {store.path}; run it first "
                          f"(crystallize run {source.experiment}, or add --with-upstream)")
    done = next((r for r in runs if completed(r.status)), None)
    if done is None:
        named = " (or name a failed one, run: RUN_ID, to read its ok replicates)" if any(
            r.status == "failed" for r in runs) else ""
        raise ConfigError(f"{where}: {source.experiment!r} has no completed run (latest: "
                          f"{runs[0].run_id}, {runs[0].status}); run it first (crystallize run "
                          f"{source.experiment}, or add --with-upstream){named}")
    return store.run_row(done.run_id)


def unknown_producer(source: FromRun) -> str | None:
    """For a producer named in an experiment.yaml: if its workspace has no experiment of that
    name, the error to give (the file and key, the names there, the closest one), else None.
    "Run it first" would send the user to a command that cannot work."""
    if source.declared is None or source.producer is not None:
        return None
    import difflib

    from .folders import discover
    from .store.store import workspace_root

    yaml_file, key = source.declared
    root = workspace_root(Path(yaml_file).parent)
    names = sorted({f.name for f in discover(root).experiments})
    if source.experiment in names:
        return None
    close = difflib.get_close_matches(source.experiment, names, n=1)
    listed = f"experiments: {', '.join(names)}" if names else "it has none"
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{key}: no experiment named {source.experiment!r} in {root} ({listed}{hint})"


def producer_condition(source: FromRun, condition: str, available: list[str]) -> str:
    """Which producer condition ``condition`` reads (see from_run)."""
    wanted = source.condition
    if isinstance(wanted, Mapping):
        wanted = wanted.get(condition)
    if wanted is None:
        return condition if condition in available else BASELINE
    if wanted not in available:
        raise ConfigError(f"condition {condition!r} reads {source.experiment!r} condition {wanted!r}, "
                          f"which its run does not have (it has: {', '.join(available)})")
    return wanted


def attach(
    consumer: str, datasource: Any, configs: dict[str, Any], replicates: Iterable[int], store: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read the producer run(s) of a chained datasource for each condition of ``configs`` and
    each replicate index.

    Adds ``upstream: {experiment, run, condition, artifact}`` (per input name for from_runs)
    to each config, so the run's stored configs and fingerprint name what it read; returns
    the per-condition inputs for the plan and the lineage records. Every problem is one
    ConfigError naming experiment, run, condition, replicate and artifact.
    """
    wanted = list(replicates)
    per_input: dict[str | None, dict[str, UpstreamInput]] = {}
    lineage = []
    for alias, source in sources_of(datasource).items():
        per_input[alias], consumed = _attach_one(consumer, source, configs, wanted, store)
        lineage.append(consumed)
    inputs: dict[str, Any] = {}
    for condition, config in configs.items():
        if None in per_input:
            inputs[condition] = per_input[None][condition]
            described: Any = _described(inputs[condition])
        else:
            inputs[condition] = UpstreamInputs({a: per_input[a][condition] for a in per_input})
            described = {a: _described(i) for a, i in inputs[condition].inputs.items()}
        if isinstance(config, dict):
            config[UPSTREAM_KEY] = described
    return inputs, lineage


def _described(item: UpstreamInput) -> dict[str, Any]:
    return {"experiment": item.experiment, "run": item.run_id, "condition": item.condition,
            "artifact": item.artifact}


def _attach_one(
    consumer: str, source: FromRun, configs: dict[str, Any], wanted: list[int], store: Any,
) -> tuple[dict[str, UpstreamInput], dict[str, Any]]:
    """One producer's run read for each condition (see attach)."""
    if source.producer is not None and source.producer.store is not None:
        store = source.producer.store
    row = producer_run(source, store, consumer)
    run_id = row["run_id"]
    available = json.loads(row["conditions"])
    results = {(r.treatment, r.replicate): r for r in store.replicates(run_id)}
    files: dict[tuple[str, int], dict[str, str]] = {}
    for a in store.artifacts(run_id):
        files.setdefault((a["treatment"], a["replicate"]), {})[a["name"]] = a["path"]
    inputs: dict[str, UpstreamInput] = {}
    where = f"{source.experiment!r} run {run_id}"
    for condition in configs:
        try:
            chosen = producer_condition(source, condition, available)
        except ConfigError as exc:
            raise ConfigError(f"experiment {consumer!r}: {exc}") from None
        ok = sum(1 for (c, _), r in results.items() if c == chosen and r.status == OK)
        table: dict[int, tuple[int, dict[str, Any], dict[str, str]]] = {}
        for k in wanted:
            rep = results.get((chosen, k))
            if rep is None:
                raise ConfigError(
                    f"experiment {consumer!r} replicate {k} reads replicate {k} of {where} "
                    f"condition {chosen!r}, which has no replicate {k} ({ok} ok); run the consumer "
                    f"with fewer replicates (-n {ok}) or the producer with more")
            if rep.status != OK:
                raise ConfigError(
                    f"experiment {consumer!r} replicate {k} reads replicate {k} of {where} "
                    f"condition {chosen!r}, which {rep.status}: {rep.error}; run "
                    f"{source.experiment} again, or read another of its runs (run: RUN_ID)")
            mine = files.get((chosen, k), {})
            if source.artifact is not None:
                path = mine.get(source.artifact)
                if path is None:
                    raise ConfigError(
                        f"experiment {consumer!r}: {where} has no artifact {source.artifact!r} for "
                        f"{chosen} #{k} (its artifacts: {', '.join(sorted(mine)) or 'none'})")
                if not os.path.isfile(path):
                    raise ConfigError(f"experiment {consumer!r}: artifact {source.artifact!r} of {where} "
                                      f"{chosen} #{k} is gone from disk: {path}")
            table[k] = (rep.seed, rep.metrics, mine)
        inputs[condition] = UpstreamInput(source.experiment, run_id, chosen, source.artifact, table)
    lineage = {"experiment": source.experiment, "run_id": run_id, "fingerprint": row["fingerprint"],
               "conditions": {c: i.condition for c, i in inputs.items()}, "artifact": source.artifact}
    return inputs, lineage


def newer_runs(store: Any, consumed: dict[str, Any], runs: Any = None) -> list[str]:
    """Completed runs of the producer started after the one consumed: "producer changed since".
    ``runs``: the producer's runs (store.runs), when the caller already has them."""
    runs = store.runs(consumed["experiment"]) if runs is None else runs
    started = next((r.started_at for r in runs if r.run_id == consumed["run_id"]), None)
    if started is None:  # the consumed run was deleted since
        return []
    return [r.run_id for r in runs if completed(r.status) and r.started_at > started]


def chain_lines(store: Any, run_id: str, now: Any = None) -> list[str]:
    """What a run consumed, one line per producer run, with a warning when it has changed
    since: a newer completed run, or (``now(name)``: the producer's fingerprint as it is on
    disk now, or None) its configs, code or seed."""
    lines = []
    for item in store.lineage(run_id):
        line = f"consumed {item['experiment']} run {item['run_id']}"
        if item.get("artifact"):
            line += f" (artifact {item['artifact']})"
        newer = newer_runs(store, item)
        if newer:
            line += f"; producer changed since: newer run {newer[0]}"
        elif now is not None and now(item["experiment"]) not in (None, item["fingerprint"]):
            line += "; producer changed since: its configs, code or seed differ now (not run yet)"
        lines.append(line)
    return lines


def consumed_cells(store: Any, run_ids: Iterable[str]) -> dict[str, str]:
    """A history table's cells: the producer runs each run read ("" for an unchained run);
    each producer's runs are read once for the whole table."""
    producers: dict[str, Any] = {}
    out = {}
    for run_id in run_ids:
        cells = []
        for item in store.lineage(run_id):
            runs = producers.get(item["experiment"])
            if runs is None:
                runs = producers[item["experiment"]] = store.runs(item["experiment"])
            cell = f"{item['experiment']} {item['run_id']}"
            if newer_runs(store, item, runs):
                cell += " (producer changed since)"
            cells.append(cell)
        out[run_id] = "; ".join(cells)
    return out


def describe_sources(datasource: Any) -> list[str]:
    """One line per producer a chained datasource reads, for the experiment's details."""
    lines = []
    for alias, source in sources_of(datasource).items():
        run = f"run {source.run_id}" if source.run_id else "latest completed run"
        what = f", artifact {source.artifact}" if source.artifact else ""
        name = f"{alias}: " if alias else ""
        lines.append(f"{name}reads {source.experiment}'s {run}{what}")
    return lines
