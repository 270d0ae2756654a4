"""The Experiment: a baseline config, treatments, a pipeline of steps, replicates, plugins."""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from . import events as ev
from . import interrupts
from .backends.options import build as build_backend
from .backends.options import execution_of
from .bus import EventBus
from .cancel import CancelToken
from .chain import attach, base_config, is_chained, reading_step
from .compare import as_hypothesis
from .errors import ConfigError, ResumeRefused
from .fingerprint import describe_changes, fingerprint, fingerprint_parts
from .handle import RunHandle
from .hypothesis import check_metric_bounds, conflicting_bounds
from .names import check_name
from .overrides import apply_overrides
from .pipeline import StepSpec, to_step
from .plan import RunPlan, Seeds, TaskOrder, check_replicates
from .plugins.base import Plugin, RunInfo
from .plugins.parallel import ParallelExecution
from .plugins.seed import SeedPlugin
from .resources import resources_of
from .result import OK, ReplicateResult, Result
from .runner import Run
from .seeds import DEFAULT_SEED, check_seed
from .stopping import StopMonitor, is_stopped, parse_stop
from .store import RunRecord, RunRecorder, Store, default_store_path, workspace_root
from .treatment import BASELINE, Treatment, resolve_datasource

DEFAULT_STORE: Any = object()  # "the default store path", resolved when first needed
_open_stores: dict[Path, Store] = {}


def open_store(path: Path) -> Store:
    """One Store per file in this process, shared by every experiment that uses it."""
    key = path.expanduser().resolve()
    store = _open_stores.get(key)
    if store is None:
        store = _open_stores[key] = Store(key)
    return store


class Experiment:
    """Runs a pipeline over replicates of a baseline config and of each treatment.

    Replicate k gets the same seed in every condition (derived from the base seed), so
    conditions can be compared replicate by replicate.
    """

    def __init__(
        self,
        name: str | None = None,
        datasource: Any = None,
        pipeline: Iterable[Callable[..., Any]] = (),
        replicates: int = 1,
        plugins: Iterable[Plugin] = (),
        treatments: Iterable[Treatment] = (),
        seed: int | None = None,
        *,
        fail_fast: bool = False,
        description: str = "",
        hypotheses: Iterable[Any] = (),
        store: Any = DEFAULT_STORE,
        execution: Mapping[str, Any] | None = None,
        stop: Any = None,
        max_replicates: int | None = None,
        correction: str | None = None,
        resources: Any = None,
        cache_limit: int | str | None = None,
        metric_bounds: Mapping[str, Any] | None = None,
    ) -> None:
        self.datasource = datasource
        # Shared objects steps reach as ctx.resources[name] (core/resources.py); with those
        # declared by @resource, which this mapping overrides name by name.
        self.resources = resources_of(resources)
        # The step cache's bound ("500MB" or bytes); None: $CRYSTALLIZE_CACHE_LIMIT or 1 GB.
        self.cache_limit = None if cache_limit is None else _parse_limit(cache_limit)
        # Stop when decided (core/stopping.py): the rule, and the cap replacing ``replicates``;
        # ``correction`` across rows: "holm" (default), "bonferroni" or "e-bh".
        self.stop_rule = parse_stop(stop, max_replicates, correction)
        self.pipeline = list(pipeline)
        self.replicates = check_replicates(replicates, "replicates")
        self.plugins = list(plugins)
        for plugin in self.plugins:
            if not isinstance(plugin, Plugin):
                raise ConfigError(f"plugins: {plugin!r} is not a Plugin (subclass crystallize_tui.Plugin)")
        self._treatments: list[Treatment] = []
        self.treatments = list(treatments)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"seed must be an integer, got {seed!r}")
        self._seed = seed
        self.fail_fast = fail_fast
        self.description = description
        self.hypotheses = [as_hypothesis(h) for h in hypotheses]
        # Bounds of metrics with or without a hypothesis: their anytime rows use the bounded
        # sequence (metric -> (low, high, method)); a hypothesis's own must agree.
        self.metric_bounds = check_metric_bounds(metric_bounds)
        clash = conflicting_bounds(self.hypotheses, self.metric_bounds)  # a metric's anytime rows use one pair of bounds
        if clash is not None:
            raise ConfigError(f"hypotheses[{clash[0]}]: {clash[1]}")
        self._name = None if name is None else check_name(name, "experiment name")
        self._subscribers: list[Callable[[ev.Event], None]] = []
        self._runs: set[Run] = set()  # in progress: cancel() and stop() reach them
        self._lock = threading.Lock()
        self.last_result: Result | None = None
        self.store = store
        self.execution = execution  # type: ignore[assignment]

    # -- the store ----------------------------------------------------------------
    @property
    def store(self) -> Store | None:
        """Where runs are kept: a Store, or None (results only in memory).

        By default ``.crystallize/crystallize.db`` under the workspace (the folder holding
        ``experiments/``, else the current folder), or ``$CRYSTALLIZE_HOME/crystallize.db``.
        """
        if self._store is DEFAULT_STORE:
            self._store = open_store(default_store_path())
        return self._store

    @store.setter
    def store(self, value: Any) -> None:
        if value is None or value is DEFAULT_STORE or isinstance(value, Store):
            self._store = value
        elif isinstance(value, (str, os.PathLike)):
            self._store = open_store(Path(value))
        else:
            raise ConfigError(f"store must be a path, a Store or None, got {value!r}")

    # -- where replicates run ----------------------------------------------------------
    @property
    def execution(self) -> dict[str, Any]:
        """The run options ``backend`` and ``workers`` (and backend settings such as
        ``grace``, ``start_method``) that a run uses unless it says otherwise: set by
        ``execution=`` (YAML: ``run:``), else by a ParallelExecution plugin, else serial."""
        return self._default_execution(self.plugins)

    @execution.setter
    def execution(self, value: Mapping[str, Any] | None) -> None:
        self._execution = None if value is None else execution_of(value)

    def _default_execution(self, plugins: Iterable[Plugin]) -> dict[str, Any]:
        if self._execution is not None:
            return dict(self._execution)
        parallel = next((p for p in plugins if isinstance(p, ParallelExecution)), None)
        return parallel.execution() if parallel is not None else {"backend": "serial"}

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Experiment:
        """Load ``experiment.yaml`` (or the folder holding it): the same Experiment a
        Python user would build. Errors name the file, line and key."""
        from .folders import load_experiment

        return load_experiment(path)

    # -- declaration --------------------------------------------------------------
    @property
    def name(self) -> str:
        if self._name:
            return self._name
        if self.pipeline:
            return getattr(self.pipeline[0], "__name__", "experiment")
        return "experiment"

    @name.setter
    def name(self, value: str) -> None:
        self._name = check_name(value, "experiment name")

    @property
    def treatments(self) -> list[Treatment]:
        return list(self._treatments)

    @treatments.setter
    def treatments(self, treatments: Iterable[Treatment]) -> None:
        checked: list[Treatment] = []
        for t in treatments:
            if not isinstance(t, Treatment):
                raise ConfigError(f"treatments: {t!r} is not a Treatment")
            if any(t.name == c.name for c in checked):
                raise ConfigError(f"treatments: the name {t.name!r} is used twice")
            checked.append(t)
        self._treatments = checked

    def add_treatment(
        self, name: str, overrides: Mapping[str, Any] | None = None, *, datasource: Any = None
    ) -> Treatment:
        """Add a treatment: ``overrides`` merged onto the baseline, or a whole other
        ``datasource`` (config dict, function, or registered name)."""
        treatment = Treatment(name, overrides, datasource=datasource)
        self.treatments = [*self._treatments, treatment]
        return treatment

    @property
    def conditions(self) -> list[str]:
        """"baseline" followed by the treatment names."""
        return [BASELINE, *(t.name for t in self._treatments)]

    @property
    def seed(self) -> int:
        """The base seed: ``seed=``, else a SeedPlugin's, else the fixed default."""
        if self._seed is not None:
            return self._seed
        plugin = next((p for p in self.plugins if isinstance(p, SeedPlugin)), None)
        return plugin.seed if plugin is not None else DEFAULT_SEED

    @seed.setter
    def seed(self, value: int | None) -> None:
        self._seed = value

    def config_for(self, name: str = BASELINE) -> Any:
        """The resolved config of condition ``name`` ("baseline" or a treatment)."""
        baseline = resolve_datasource(base_config(self.datasource), "baseline")
        if name == BASELINE:
            return baseline
        return self._treatment(name).resolve(baseline)

    def resolve_configs(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Resolved configs of the given conditions (all by default), baseline first."""
        wanted = self.conditions if names is None else list(names)
        baseline = resolve_datasource(base_config(self.datasource), "baseline")
        configs: dict[str, Any] = {}
        for name in wanted:
            configs[name] = baseline if name == BASELINE else self._treatment(name).resolve(baseline)
        return configs

    def _treatment(self, name: str) -> Treatment:
        for t in self._treatments:
            if t.name == name:
                return t
        raise ConfigError(f"unknown condition {name!r}; this experiment has: {', '.join(self.conditions)}")

    def steps(self) -> tuple[StepSpec, ...]:
        if not self.pipeline:
            raise ConfigError(f"experiment {self.name!r} has an empty pipeline: add at least one step")
        return tuple(to_step(fn, i) for i, fn in enumerate(self.pipeline))

    # -- events -------------------------------------------------------------------
    def subscribe(self, callback: Callable[[ev.Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every event of every later run, in the thread
        that runs the experiment. Returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def cancel(self) -> None:
        """Cancel the runs in progress (thread-safe): no new replicate starts, running
        ones stop at their next cancellation point, finished ones are kept."""
        with self._lock:
            for run in self._runs:
                run.token.cancel()

    def stop(self) -> bool:
        """Stop the runs in progress at their current look (thread-safe): no new replicate
        starts, running ones finish and are kept; each ends "stopped: at look". False when
        no run was in progress (nothing to stop yet)."""
        with self._lock:
            for run in self._runs:
                run.stop_at_look()
            return bool(self._runs)

    @contextmanager
    def _active(self, run: Run) -> Iterator[None]:
        with self._lock:
            self._runs.add(run)
        try:
            yield
        finally:
            with self._lock:
                self._runs.discard(run)

    # -- running ------------------------------------------------------------------
    def prepare(
        self,
        *,
        replicates: int | None = None,
        treatments: Iterable[str] | None = None,
        seed: int | None = None,
        fail_fast: bool | None = None,
        echo: bool = True,
        subscribers: Iterable[Callable[[ev.Event], None]] = (),
        only: tuple[str, int] | None = None,
        reraise: bool = False,
        plugins: list[Plugin] | None = None,
        resume: bool = False,
        force: bool = False,
        record: bool = True,
        overrides: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        backend: str | None = None,
        workers: int | None = None,
        grace: float | None = None,
        start_method: str | None = None,
        concurrency: int | None = None,
        confirmatory: bool = False,
        seed_stream: int = 0,
        stop: Any = None,
        max_replicates: int | None = None,
        correction: str | None = None,
    ) -> Run:
        """Build a Run without starting it (``run``, ``stream``, ``debug`` and ``confirm``
        use this); ``confirmatory``: fresh seeds and a lock (core/confirm.py)."""
        interrupts.raise_if_pending()  # Ctrl-C before the run exists: record nothing
        n = self.replicates if replicates is None else check_replicates(replicates, "replicates")
        rule = self.stop_rule
        if stop is not None or max_replicates is not None or correction is not None:
            rule = parse_stop(stop if stop is not None else rule, max_replicates, correction)
        if rule is not None and only is not None:
            rule = None  # one replicate of one condition: nothing to compare
        if rule is not None and rule.max_replicates is not None:
            n = rule.max_replicates  # the cap: replicates run round by round up to it
        if treatments is None:
            names = self.conditions
        else:
            chosen = list(treatments)
            for t in chosen:
                if t != BASELINE:
                    self._treatment(t)
            names = [c for c in self.conditions if c == BASELINE or c in chosen]
        base_seed = check_seed(self.seed if seed is None else seed)
        configs = self.resolve_configs(names)
        if overrides:
            configs = apply_overrides(configs, overrides)
        plugins = list(self.plugins if plugins is None else plugins)
        executor = build_backend(self._default_execution(plugins), backend,
                                 {"workers": workers, "grace": grace, "start_method": start_method,
                                  "concurrency": concurrency})
        executor.connect()  # an unreachable scheduler fails here, before anything is stored
        steps = self.steps()
        store = self.store if record else None
        upstream, consumed = None, None
        if is_chained(self.datasource):  # a chained experiment (core/chain.py)
            upstream, consumed = attach(self.name, self.datasource, configs,
                                        [only[1]] if only is not None else range(n), self.store)
        # The fingerprint (hashes of configs and step sources) serves resume and the
        # record; a run kept in memory has neither, so it skips reading the sources.
        parts = fingerprint_parts(configs, steps, base_seed, self.resources) if store is not None else {}
        prior: list[ReplicateResult] = []
        previous = None
        if resume:
            if store is None:
                raise ConfigError("resume needs a store; this experiment has store=None")
            previous = self._resumable(store, parts, configs, force)
        if previous is not None:
            run_id = previous.run_id
            kept = json.loads(store.run_row(run_id).get("stop") or "null")
            if kept and kept.pop("requested", None):  # a stop asked of the interrupted run
                store.set_stop(run_id, kept)  # is not asked of its continuation
            if rule is None and kept and kept.get("until"):
                # A cancelled run with a stop rule resumes under the same rule and cap.
                rule = parse_stop(kept["until"], kept.get("max_replicates"), kept.get("correction"))
                n = rule.max_replicates or n
            n = max(n, previous.replicates)
            prior = [r for r in store.replicates(run_id)
                     if r.status == OK and r.replicate < n and r.treatment in names]
        else:
            run_id = run_id or f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        # A resumed run keeps its seed stream (a confirmatory one its fresh seeds); a new
        # confirmatory run takes a stream no earlier run of the experiment touched.
        seed_stream = previous.seed_stream if previous is not None else seed_stream
        lock = None
        if confirmatory and previous is None and store is not None:
            from .confirm import lock_run

            lock = lock_run(store, self.name, base_seed, n, parts, self.hypotheses,
                            self.metric_bounds)
            seed_stream = lock["seed_stream"]
        bus = EventBus()
        recorder = None
        if store is not None:
            recorder = RunRecorder(store, run_id)
            bus.add("store", recorder.on_event)
        for plugin in plugins:
            if plugin.overrides("on_event"):
                bus.add(f"{plugin.name}.on_event", plugin.on_event)
        for sub in [*self._subscribers, *subscribers]:
            bus.add(getattr(sub, "__qualname__", repr(sub)), sub)
        tasks: Any = [only] if only is not None else TaskOrder(
            names, n, {(r.treatment, r.replicate) for r in prior})
        plan = RunPlan(
            run_id=run_id,
            name=self.name,
            steps=steps,
            configs=configs,
            seeds=Seeds(base_seed, n, seed_stream),
            plugins=[p for p in plugins if not isinstance(p, ParallelExecution)],
            tasks=tasks,
            want_events=bool(bus),
            capture=bool(bus) or not echo,
            echo=echo,
            keep_output=only is not None,
            reraise=reraise,
            cache_dir=_cache_dir(steps, store, self.cache_limit),
            cache_limit=self.cache_limit,
            resources=self.resources,
        )
        info = RunInfo(run_id, self, self.name, base_seed, n, tuple(names), configs,
                       resumed=previous is not None)
        if recorder is not None:
            if previous is not None:
                note = "resumed with force despite changes" if force else None
                recorder.resumed_run(replicates=n, note=note, resumes=previous.resumes,
                                     conditions=names)
            else:
                # The rule goes in with the run's row (written when the run starts), so a
                # watcher reads it while the run goes (the live views decide as it does).
                stop = ({"stop": json.dumps({**rule.as_dict(), "reason": None})}
                        if rule is not None else {})
                recorder.new_run(info=info, parts=parts, fingerprint=fingerprint(parts),
                                 workspace=workspace_root(), extra={**(lock or {}), **stop})
            if rule is not None and previous is not None:
                store.set_stop(run_id, {**rule.as_dict(), "reason": None})
            if consumed is not None:
                recorder.consumed.extend(consumed)
        if upstream is not None:  # a first step hands replicate k the producer's replicate k
            plan.steps = (reading_step(upstream), *plan.steps)
        monitor = StopMonitor(rule, list(names), self.hypotheses, metric_bounds=self.metric_bounds) if rule is not None and len(names) > 1 else None
        plan.look_every = len(names) if monitor is not None else 0
        return Run(
            info=info, plan=plan, plugins=plugins, bus=bus, token=CancelToken(), backend=executor,
            fail_fast=self.fail_fast if fail_fast is None else fail_fast,
            recorder=recorder, prior=prior, monitor=monitor,
            kind=previous.kind if previous is not None else ("confirmatory" if confirmatory else "exploratory"),
        )

    def _resumable(
        self, store: Store, parts: dict[str, str], configs: dict[str, Any], force: bool
    ) -> RunRecord | None:
        """The run to continue: the latest of this experiment, unless it completed."""
        runs = store.runs(self.name)
        if not runs or runs[0].status == "completed":
            return None
        latest = runs[0]
        if is_stopped(latest.status):
            # Its stop rule ended it on purpose: continuing would look again at data already
            # decided on. A new run starts afresh (without resume).
            raise ConfigError(f"nothing to resume: the latest run of {self.name!r}, {latest.run_id}, "
                              f"{latest.status}; run without resume to start a new one")
        row = store.run_row(latest.run_id)
        changes = describe_changes(json.loads(row["fingerprint_parts"]), parts,
                                   json.loads(row["configs"]), configs)
        if changes and not force:
            listed = "\n  - ".join(changes)
            raise ResumeRefused(
                f"cannot resume run {latest.run_id} of {self.name!r}: the experiment changed since "
                f"it ran:\n  - {listed}\nrun without resume to start afresh, or pass force=True "
                "(--force) to resume anyway",
                run_id=latest.run_id, changes=changes,
            )
        return latest

    def run(self, **options: Any) -> Result:
        """Run every replicate of every condition and return the Result.

        Options: ``replicates``, ``treatments`` (names to run; the baseline always runs),
        ``seed``, ``fail_fast``, ``echo`` (False keeps print output off the terminal),
        ``overrides`` ({"dotted.key": value} set in every condition's config),
        ``backend`` ("serial", "threads", "processes", "dask", "async") and ``workers`` (> 1
        alone: the experiment's pool, processes by default; 1: serial), ``grace`` and
        ``start_method`` for the pool, ``concurrency`` (replicates in flight at once) for
        "async", ``resume`` (continue the latest unfinished run of this experiment from
        the store: finished replicates are kept, failed and missing ones run; refused if
        configs or step code changed since, unless ``force=True``), ``stop`` ("decided" or
        "width=0.02") with ``max_replicates`` (the cap) and ``correction`` ("holm" by
        default, "bonferroni", or "e-bh" for a false discovery rate): replicates run in rounds and none
        starts once every hypothesis's row (every treatment x metric row if none are declared)
        is decided, or every interval is that narrow; the status reads "stopped: decided" and
        ``result.stop`` holds the rule, the stopping replicate and the anytime-valid rows
        (core/stopping.py). A run that stopped so is not resumed (run afresh).
        """
        return self._handle(options, listen=False).drive()

    def confirm(self, **options: Any) -> Result:
        """A confirmatory run of the declared hypotheses on fresh seeds: replicate seeds no
        earlier run of this experiment used (checked against the store), with the configs,
        code and hypotheses locked and fingerprinted before the first replicate. Same
        options as ``run()`` except ``resume``, ``force`` and ``overrides`` (it tests the
        experiment as declared). See ``crystallize_tui.core.confirm``."""
        from .confirm import CONFIRMATORY, check_confirmable

        check_confirmable(self, options)
        result = self._handle({**options, "confirmatory": True}, listen=False).drive()
        result.kind = CONFIRMATORY
        return result

    def start(self, **options: Any) -> RunHandle:
        """Start a run in a background thread of this process and return its RunHandle
        at once: ``run_id``, ``status``, ``progress``, ``events()``, ``subscribe(fn)``,
        ``cancel()`` (this run only) and ``wait() -> Result``. Same options as ``run()``
        (and ``subscribers=[fn]`` to hear every event from the first). Errors in the
        options, or a refused resume, are raised here, before anything runs."""
        handle = self._handle(options, listen=True)
        handle.launch()
        return handle

    def _handle(self, options: dict[str, Any], *, listen: bool) -> RunHandle:
        """A RunHandle bound to a prepared run: the one path of run(), stream() and start()."""
        handle = RunHandle(listen=listen)
        if listen:
            options = {**options, "subscribers": [handle.publish, *options.get("subscribers", ())]}
        with interrupts.guard():  # Ctrl-C while the store opens: nothing half-written
            run = self.prepare(**options)
        handle.bind(run, self._active, self._ended if listen else self._kept)
        return handle

    def _ended(self, result: Result | None) -> None:
        if result is not None:
            self.last_result = result

    def _kept(self, result: Result | None) -> None:
        self.last_result = result

    def stream(self, **options: Any) -> Iterator[ReplicateResult]:
        """Yield each replicate's result as it finishes (completion order). Leaving the
        loop early cancels the rest; ``experiment.last_result`` then holds the Result."""
        yield from self._handle(options, listen=False).results()

    def debug(
        self, treatment: str = BASELINE, replicate: int = 0, *, verbose: bool = True,
        out: TextIO | None = None, echo: bool = True,
        subscribers: Iterable[Callable[[ev.Event], None]] = (),
        seed: int | None = None, config: Mapping[str, Any] | None = None,
        seed_stream: int = 0,
    ) -> ReplicateResult:
        """Run exactly one replicate, serially, printing its events; return its result.

        Same seed as replicate ``replicate`` of a full run with base ``seed`` (default: the
        experiment's), so it reproduces it. ``config`` replaces the condition's resolved
        config (a run's, with its overrides); ``seed_stream`` the seed stream of a
        confirmatory run's replicate. An exception in a step propagates with its own traceback.
        """
        if treatment != BASELINE:
            self._treatment(treatment)
        if isinstance(replicate, bool) or not isinstance(replicate, int) or replicate < 0:
            raise ConfigError(f"debug: replicate must be a whole number >= 0, got {replicate!r}")
        stream = out if out is not None else sys.stdout
        printer = _EventPrinter(stream) if verbose else None
        run = self.prepare(
            record=False,
            run_id=f"debug-{treatment}-{replicate}",  # not stored: a readable, stable id
            replicates=max(self.replicates, replicate + 1),
            treatments=[treatment],
            only=(treatment, replicate),
            reraise=True,
            echo=echo,
            subscribers=[*([printer] if printer else []), *subscribers],
            backend="serial",
            seed=seed,
            seed_stream=seed_stream,
        )
        if config is not None:
            run.plan.configs[treatment] = dict(config)
        handle = RunHandle(listen=False)
        handle.bind(run, self._active, self._kept)
        outcomes = list(handle.results())
        if not outcomes:
            raise ConfigError("debug: the replicate was cancelled before it finished")
        return outcomes[0]

    def __repr__(self) -> str:
        return (
            f"Experiment(name={self.name!r}, conditions={self.conditions}, "
            f"replicates={self.replicates}, seed={self.seed})"
        )


class _EventPrinter:
    """debug()'s subscriber: one readable line per event (print output echoes by itself)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: ev.Event) -> None:
        line = describe(event)
        if line is not None:
            self.out.write(line + "\n")
            self.out.flush()


def describe(event: ev.Event) -> str | None:
    """A one-line description of an event for terminals (None for print output)."""
    tag = f"[{event.treatment} #{event.replicate}]"
    if isinstance(event, ev.RunStarted):
        return f"run {event.run_id} of {event.experiment}: seed {event.seed}"
    if isinstance(event, ev.ReplicateStarted):
        return f"{tag} started, seed {event.seed}"
    if isinstance(event, ev.StepStarted):
        retry = f" (attempt {event.attempt})" if event.attempt > 1 else ""
        return f"{tag} step {event.step}{retry}"
    if isinstance(event, ev.StepFinished):
        return f"{tag} step {event.step} {'done' if event.ok else 'FAILED'} in {event.duration:.3f}s"
    if isinstance(event, ev.MetricRecorded):
        return f"{tag} metric {event.name} = {event.value!r}"
    if isinstance(event, ev.UserEvent):
        data = " ".join(f"{k}={v!r}" for k, v in event.data.items())
        return f"{tag} {event.kind} {data}".rstrip()
    if isinstance(event, ev.ArtifactSaved):
        return f"{tag} artifact {event.name} -> {event.path} ({event.size} bytes)"
    if isinstance(event, ev.Output):
        return None
    if isinstance(event, ev.ReplicateFinished):
        shown = ", ".join(f"{k}={v!r}" for k, v in event.metrics.items())
        return f"{tag} finished in {event.duration:.3f}s: {shown}"
    if isinstance(event, ev.ReplicateFailed):
        return f"{tag} FAILED: {event.error}"
    if isinstance(event, ev.RunFinished):
        return f"run {event.status} in {event.duration:.2f}s"
    if isinstance(event, ev.RunCancelled):
        return f"run cancelled after {event.duration:.2f}s"
    return f"{tag} {type(event).__name__}"


def _parse_limit(value: int | str) -> int:
    from .cache import parse_size  # only for an experiment that sets one

    return parse_size(value, "cache_limit")


def _cache_dir(steps: tuple[StepSpec, ...], store: Store | None, limit: int | None) -> str | None:
    """Where this run's cached steps keep outputs; None when no step is cached. A bad
    $CRYSTALLIZE_CACHE_LIMIT stops the run here, before any replicate starts."""
    if not any(step.cache for step in steps):
        return None
    from .cache import cache_limit
    from .cache_step import cache_dir_for

    cache_limit(limit)
    return str(cache_dir_for(None if store is None else store.path))
