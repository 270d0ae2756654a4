"""What a run returns: per-replicate results and the per-condition views over them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .treatment import BASELINE

OK, FAILED, CANCELLED = "ok", "failed", "cancelled"


class ReplicateResult:
    """One replicate of one condition: its seed, status, metrics and (if it failed) error.

    ``metrics`` maps each metric to its last value; ``values`` keeps every recorded
    (name, value) in order, so series such as loss per epoch are not lost.
    """

    __slots__ = (
        "treatment", "replicate", "seed", "status", "values", "duration", "error",
        "traceback", "output",
    )

    def __init__(
        self,
        treatment: str,
        replicate: int,
        seed: int,
        status: str,
        values: list[tuple[str, Any]],
        duration: float,
        error: str | None = None,
        traceback: str | None = None,
        output: Any = None,
    ) -> None:
        self.treatment = treatment
        self.replicate = replicate
        self.seed = seed
        self.status = status
        self.values = values
        self.duration = duration
        self.error = error
        self.traceback = traceback
        self.output = output

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.values)

    @property
    def ok(self) -> bool:
        return self.status == OK

    def series(self, name: str) -> list[Any]:
        return [v for n, v in self.values if n == name]

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for slot, value in zip(self.__slots__, state, strict=True):
            setattr(self, slot, value)

    def __repr__(self) -> str:
        tail = f", error={self.error!r}" if self.error else ""
        return (
            f"ReplicateResult(treatment={self.treatment!r}, replicate={self.replicate}, "
            f"status={self.status!r}, metrics={self.metrics!r}{tail})"
        )


@dataclass(frozen=True)
class ReplicateFailure:
    """A failed replicate in ``result.errors``."""

    treatment: str
    replicate: int
    seed: int
    error: str
    traceback: str


@dataclass
class ConditionMetrics:
    """One condition's metrics: ``metrics[name]`` is a list indexed by replicate.

    A replicate that failed, did not run, or did not record ``name`` holds ``None``, so
    the list never silently shrinks and index k is always replicate k.
    """

    name: str
    replicates: list[ReplicateResult | None]
    metrics: dict[str, list[Any]] = field(init=False)

    def __post_init__(self) -> None:
        # One pass over each replicate's values (the last value of a name wins, as in
        # ReplicateResult.metrics): building that dict once per metric made a run with
        # 1,000 metrics take seconds to load.
        self.metrics = {}
        count = len(self.replicates)
        for k, rep in enumerate(self.replicates):
            if rep is None or rep.status != OK:
                continue
            for n, value in rep.values:
                column = self.metrics.get(n)
                if column is None:
                    column = self.metrics[n] = [None] * count
                column[k] = value

    def series(self, name: str) -> list[list[Any] | None]:
        """Every value of ``name`` per replicate (None for failed or missing replicates)."""
        return [
            rep.series(name) if rep is not None and rep.status == OK else None
            for rep in self.replicates
        ]


class MetricsView:
    """``result.metrics.baseline`` and ``result.metrics.treatments[name]``."""

    def __init__(self, conditions: dict[str, ConditionMetrics]) -> None:
        self._conditions = conditions

    @property
    def baseline(self) -> ConditionMetrics:
        return self._conditions[BASELINE]

    @property
    def treatments(self) -> dict[str, ConditionMetrics]:
        return {k: v for k, v in self._conditions.items() if k != BASELINE}

    def __getitem__(self, condition: str) -> ConditionMetrics:
        return self._conditions[condition]

    def __iter__(self) -> Iterator[str]:
        return iter(self._conditions)


class Result:
    """The outcome of ``experiment.run()``."""

    def __init__(
        self,
        *,
        run_id: str,
        experiment: str,
        seed: int,
        replicates: int,
        conditions: list[str],
        configs: dict[str, Any],
        outcomes: list[ReplicateResult],
        status: str,
        duration: float = 0.0,
        complete: bool = True,
        hypotheses: list[Any] | None = None,
        metric_bounds: dict[str, tuple[float, float, str]] | None = None,
    ) -> None:
        self.run_id = run_id
        self.experiment = experiment
        self.seed = seed
        self.replicates = replicates
        self.conditions = list(conditions)
        self.configs = configs
        self.status = status  # "completed", "failed" (some replicate failed) or "cancelled"
        self.duration = duration
        self.complete = complete  # every planned replicate ran (none cancelled or skipped)
        self.declared_hypotheses = list(hypotheses or [])
        # The experiment's metric_bounds (metric -> (low, high, method)): with the hypotheses'
        # bounds, what the anytime rows assume (watch/live_stats.declared_bounds).
        self.metric_bounds = dict(metric_bounds or {})
        # A run with a stop rule (core/stopping.py): the rule, why it ended, the anytime rows.
        self.stop: dict[str, Any] | None = None
        self.kind = "exploratory"  # or "confirmatory" (core/confirm.py): set by load and confirm()
        grid: dict[str, list[ReplicateResult | None]] = {c: [None] * replicates for c in conditions}
        for out in outcomes:
            row = grid.get(out.treatment)
            if row is not None and 0 <= out.replicate < replicates:
                row[out.replicate] = out
        self._grid = grid
        self.metrics = MetricsView({c: ConditionMetrics(c, grid[c]) for c in conditions})

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED

    @property
    def replicate_results(self) -> list[ReplicateResult]:
        """Every replicate that ran, condition by condition, in replicate order."""
        return [r for c in self.conditions for r in self._grid[c] if r is not None]

    @property
    def errors(self) -> list[ReplicateFailure]:
        return [
            ReplicateFailure(r.treatment, r.replicate, r.seed, r.error or "", r.traceback or "")
            for r in self.replicate_results
            if r.status == FAILED
        ]

    def replicate(self, treatment: str, index: int) -> ReplicateResult | None:
        return self._grid[treatment][index]

    def ran_in_every_condition(self) -> Result:
        """This result restricted to the replicate numbers that ran (ok or failed) in every
        condition, renumbered 0..k-1. The statistics of a cancelled or stopped run use it, so
        replicates that never started are not counted as pairs dropped for a missing value
        (a failed replicate still is)."""
        ran = [{r.replicate for r in self._grid[c] if r is not None} for c in self.conditions]
        common = sorted(set.intersection(*ran)) if ran else []
        index = {k: i for i, k in enumerate(common)}
        outcomes = [
            ReplicateResult(r.treatment, index[r.replicate], r.seed, r.status, list(r.values),
                            r.duration, r.error, r.traceback)
            for r in self.replicate_results if r.replicate in index
        ]
        return Result(run_id=self.run_id, experiment=self.experiment, seed=self.seed,
                      replicates=len(common), conditions=self.conditions, configs=self.configs,
                      outcomes=outcomes, status=self.status, duration=self.duration,
                      complete=False, hypotheses=self.declared_hypotheses,
                      metric_bounds=self.metric_bounds)

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat record per recorded value: treatment, replicate, seed, metric,
        index (position within that metric's series) and value."""
        rows: list[dict[str, Any]] = []
        for rep in self.replicate_results:
            counts: dict[str, int] = {}
            for name, value in rep.values:
                i = counts.get(name, 0)
                counts[name] = i + 1
                rows.append({
                    "treatment": rep.treatment, "replicate": rep.replicate, "seed": rep.seed,
                    "status": rep.status, "metric": name, "index": i, "value": value,
                })
        return rows

    def compare(self, *positional: Any, pair: Any = None, **options: Any) -> Any:
        """Each treatment vs the baseline on each metric: a ComparisonTable (iterable rows;
        ``print()`` it for a table). ``compare("fast", "slow")`` (or ``pair=("fast",
        "slow")``) compares any two conditions instead: slow − fast, paired by replicate.
        Options: ``metrics``, ``alpha``, ``correction`` ("holm", "bh", "none"),
        ``family`` ("metric": correct within each metric; "table": across every row),
        ``tests={"metric": "rank"}``, ``test``, ``paired``, ``alternative``,
        ``confidence``, ``bootstrap``. See the README."""
        from .compare import compare_result

        if positional and isinstance(positional[0], str):
            # compare(a, b): two condition names (a list of metrics is never a str)
            if pair is not None:
                raise TypeError("compare: give the pair either as compare(a, b) or as pair=, not both")
            if len(positional) != 2 or not isinstance(positional[1], str):
                raise TypeError(f"compare(a, b) takes two condition names and then options by "
                                f"keyword (alpha=...), got {positional!r}")
            pair, positional = positional, ()
        if len(positional) > 3:
            raise TypeError(f"compare takes at most 3 positional arguments, got {len(positional)}")
        # the old positional order: compare(metrics, alpha, correction)
        for key, value in zip(("metrics", "alpha", "correction"), positional, strict=False):
            if key in options:
                raise TypeError(f"compare: {key} given twice")
            options[key] = value
        return compare_result(self, pair=pair, **options)

    @property
    def hypotheses(self) -> list[Any]:
        """Verdicts on the experiment's declared hypotheses, one per (hypothesis, treatment)."""
        from .compare import evaluate_hypotheses

        return evaluate_hypotheses(self, self.declared_hypotheses)

    def to_csv(self, path: Any) -> Any:
        """Write the flat rows to a CSV file; returns its path."""
        from .export import to_csv

        return to_csv(self, path)

    def to_json(self, path: Any) -> Any:
        """Write the whole result as JSON (``Result.from_json`` reads it back)."""
        from .export import to_json

        return to_json(self, path)

    @staticmethod
    def from_json(path: Any) -> Result:
        from .export import from_json

        return from_json(path)

    def to_dataframe(self) -> Any:
        """The flat rows as a pandas DataFrame (needs pandas)."""
        from .export import to_dataframe

        return to_dataframe(self)

    def __repr__(self) -> str:
        done = sum(1 for r in self.replicate_results if r.ok)
        return (
            f"Result(experiment={self.experiment!r}, run_id={self.run_id!r}, "
            f"status={self.status!r}, replicates_ok={done}, errors={len(self.errors)})"
        )
