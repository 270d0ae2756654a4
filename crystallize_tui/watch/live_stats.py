"""Live statistics of a run still going: anytime-valid rows, and the fixed-n comparison on demand.

One feed for every view (the TUI's run screens, ``crystallize attach``): it takes finished
replicates as they are announced (events) or as a late watcher reads them from the store.
While a run goes, the views show ``anytime()``: per treatment x metric, the confidence
sequence of the paired difference (stats/sequential.py) and "decided: better/worse" or
"undecided", valid at every look at once; it is updated incrementally, O(new replicates).
A fixed-n p-value recomputed as replicates arrive is never a verdict (looking repeatedly and
stopping at a small p inflates false positives); ``compute()`` still gives that comparison,
paced to about a tenth of the time, for a run's final table.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..core import events as ev
from ..core.result import FAILED, OK, ReplicateResult, Result

LIVE_NOTE = "live: {n} replicate(s) done in every condition · not a verdict yet"
LIVE_ASSUMPTION = ("fixed-n tests recomputed as replicates arrive: stopping when p looks small "
                   "inflates false positives, so only the final table is a verdict")
BUDGET = 0.1  # share of the time the comparison may take while the run goes
MIN_INTERVAL_S = 1.0  # and never more often than this


@dataclass(frozen=True)
class LiveTable:
    """One computation: the comparison, over how many replicates per condition, and the note."""

    comparison: Any  # stats.comparison.ComparisonTable
    replicates: int
    note: str
    cost_s: float


@dataclass(frozen=True)
class LiveAnytime:
    """The anytime-valid rows at one look, over how many complete rounds, and the note."""

    rows: list[Any]  # AnytimeRow
    replicates: int
    note: str


def as_finished_event(run_id: str, rep: Any) -> ev.ReplicateFinished | ev.ReplicateFailed:
    """A stored replicate (core.store's replicate record) as the event that announced it."""
    if rep.ok:
        return ev.ReplicateFinished(run_id, rep.treatment, rep.replicate, 0.0, rep.seed,
                                    rep.duration, rep.metrics)
    return ev.ReplicateFailed(run_id, rep.treatment, rep.replicate, 0.0, rep.seed, rep.duration,
                              rep.error or "", getattr(rep, "traceback", "") or "")


def stored_correction(stop: str | dict[str, Any] | None) -> str | None:
    """The correction of a run's stop rule as the store keeps it (``runs.stop``), else None."""
    import json

    try:
        rule = json.loads(stop) if isinstance(stop, str) else stop
    except ValueError:
        return None
    found = rule.get("correction") if isinstance(rule, dict) else None
    return found if isinstance(found, str) else None


def partial_result(name: str, conditions: list[str], seed: int, finished: Iterable[Any]) -> Result:
    """A Result over the replicates finished so far.

    Only replicate numbers finished (or failed) in every condition take part, renumbered
    0..k-1 in order, so a pair is "dropped" only for a real failure or a missing metric,
    never because one side has not run yet."""
    finished = list(finished)
    done: dict[str, set[int]] = {c: set() for c in conditions}
    for e in finished:
        done.setdefault(e.treatment, set()).add(e.replicate)
    common = sorted(set.intersection(*(done[c] for c in conditions))) if conditions else []
    index = {k: i for i, k in enumerate(common)}
    outcomes = [
        ReplicateResult(e.treatment, index[e.replicate], e.seed, OK, list(e.metrics.items()),
                        e.duration)
        if isinstance(e, ev.ReplicateFinished)
        else ReplicateResult(e.treatment, index[e.replicate], e.seed, FAILED, [], e.duration,
                             e.error, e.traceback)
        for e in finished if e.replicate in index
    ]
    return Result(run_id="live", experiment=name, seed=seed, replicates=len(common),
                  conditions=list(conditions), configs={}, outcomes=outcomes, status="running",
                  complete=False)


class LiveStatistics:
    """Finished replicates in, a paced live comparison out. Not thread-safe: feed it and
    ask it from one thread, or hand ``snapshot()`` to a worker for ``compute``."""

    def __init__(self, experiment: str, conditions: Iterable[str], seed: int,
                 correction: str | None = None, hypotheses: Any = None,
                 metric_bounds: Any = None) -> None:
        self.experiment = experiment
        self.conditions = list(conditions)
        self.seed = seed
        self.finished: list[ev.ReplicateFinished | ev.ReplicateFailed] = []
        self._dirty = False
        self._last_at = float("-inf")
        self._last_cost = 0.0
        # ``correction``: the run's stop rule's (``stored_correction``), so a view decides the
        # rows as the run's own monitor does; Holm without one. Views chart the interval over
        # replicates: keep its trajectory (4 floats a round). ``hypotheses`` (objects, or the
        # store's JSON) and ``metric_bounds`` (the experiment's, or the store's JSON) give the
        # rows their declared bounds.
        self.anytime_stats = AnytimeStatistics(
            self.conditions, correction=correction, trajectory=True,
            bounds=declared_bounds(hypotheses, metric_bounds))

    def add(self, events: Iterable[Any]) -> None:
        """Replicates that finished or failed (events; other events are ignored)."""
        before = len(self.finished)
        self.finished.extend(e for e in events
                             if isinstance(e, (ev.ReplicateFinished, ev.ReplicateFailed)))
        self.anytime_stats.add_events(self.finished[before:])
        self._dirty = self._dirty or len(self.finished) > before

    def anytime(self) -> LiveAnytime:
        """The anytime-valid rows now (cheap: the updaters already hold every replicate)."""
        rows = self.anytime_stats.rows()
        n = self.anytime_stats.rounds
        return LiveAnytime(rows, n, ANYTIME_LIVE_NOTE.format(n=n, anytime=self.anytime_stats.note()))

    def add_stored(self, run_id: str, replicates: Iterable[Any]) -> None:
        """Replicates a late watcher read from the store."""
        self.add(as_finished_event(run_id, r) for r in replicates)

    @property
    def comparable(self) -> bool:
        return len(self.conditions) > 1

    @property
    def next_at(self) -> float:
        """The monotonic time from which the pacing allows the next computation: at least
        MIN_INTERVAL_S after the last, and long enough that it takes at most BUDGET of the time."""
        return self._last_at + max(MIN_INTERVAL_S, self._last_cost / BUDGET)

    def due(self, now: float | None = None) -> bool:
        """New replicates since the last computation, and the pacing allows another."""
        if not self._dirty or not self.comparable:
            return False
        return (time.monotonic() if now is None else now) >= self.next_at

    def snapshot(self) -> list[Any]:
        """What to compute over (a copy), marking the feed as computed now."""
        self._dirty = False
        self._last_at = time.monotonic()
        return list(self.finished)

    def compute(self, finished: list[Any] | None = None) -> LiveTable:
        """The comparison over ``finished`` (default: everything so far). Imports scipy:
        call it off a UI thread. Its cost paces the next ``due()``."""
        import crystallize_tui.stats  # noqa: F401 - the import is not the comparison's cost

        began = time.perf_counter()
        rows = self.snapshot() if finished is None else finished
        partial = partial_result(self.experiment, self.conditions, self.seed, rows)
        table = partial.compare()
        self._last_cost = time.perf_counter() - began
        return LiveTable(table, partial.replicates, LIVE_NOTE.format(n=partial.replicates),
                         self._last_cost)


# -- anytime-valid rows ---------------------------------------------------------------
ANYTIME_NOTE = ("fixed-n p-values are not a verdict yet; anytime-valid intervals hold at every "
                "look at once ({family}): decided when one excludes 0")
ANYTIME_LIVE_NOTE = "live: {n} replicate(s) done in every condition · {anytime}"


@dataclass(frozen=True)
class AnytimeRow:
    """One treatment x metric at the current look: its confidence sequence and decision."""

    treatment: str
    metric: str
    n: int  # paired replicates in the interval
    estimate: float
    lower: float
    upper: float
    p_value: float  # anytime-valid
    decision: str  # "better"/"worse" (a hypothesis gives the good side), "higher"/"lower", "undecided"
    method: str
    assumes: str
    note: str = ""  # why it cannot decide yet (burn-in, skewness)
    level: float = 0.05  # the interval's level: the one its decision was made at (stats/family.py)
    correction: str = "holm"

    @property
    def label(self) -> str:
        return "undecided" if self.decision == "undecided" else f"decided: {self.decision}"

    @property
    def width(self) -> float:
        return self.upper - self.lower

    def as_dict(self) -> dict[str, Any]:
        return {"treatment": self.treatment, "metric": self.metric, "n": self.n,
                "estimate": self.estimate, "lower": self.lower, "upper": self.upper,
                "p_value": self.p_value, "decision": self.decision, "anytime": self.label,
                "method": self.method, "assumes": self.assumes, "note": self.note,
                "level": self.level, "correction": self.correction}


def _is_binary(value: Any) -> bool:
    """0/1 outcomes: bools, or whole numbers 0 and 1 (a float is taken as unbounded)."""
    return isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))


class Declared(NamedTuple):
    """A metric's declared bounds (low, high) and the bounded sequence its rows use."""

    low: float
    high: float
    method: str = "bounded"  # or "betting"


def declared_bounds(hypotheses: Any, metric_bounds: Any = None) -> dict[str, Declared]:
    """Metric -> declared bounds (and sequence) of a run: the experiment's ``metric_bounds``
    (metric -> (low, high, method), or the JSON the store keeps in ``runs.metric_bounds``), then
    its hypotheses' (Hypothesis objects, their dicts, or the stored JSON of ``runs.hypotheses``);
    a metric's first declaration wins (an experiment refuses ones that disagree). Every place
    that makes anytime rows takes its bounds from here."""
    import json

    from ..core.hypothesis import stored_metric_bounds

    if isinstance(hypotheses, str):
        try:
            hypotheses = json.loads(hypotheses)
        except ValueError:
            hypotheses = []
    out = {m: Declared(*spec) for m, spec in stored_metric_bounds(metric_bounds).items()}
    for h in hypotheses or ():
        def field(key: str, h: Any = h) -> Any:
            return h.get(key) if isinstance(h, dict) else getattr(h, key, None)

        metric, bounds, method = field("metric"), field("bounds"), field("anytime")
        if isinstance(metric, str) and bounds is not None and len(bounds) == 2:
            out.setdefault(metric, Declared(float(bounds[0]), float(bounds[1]), method or "bounded"))
    return out


def declared_directions(hypotheses: Any) -> dict[str, str]:
    """Metric -> direction of a run's hypotheses (objects, dicts or the stored JSON); the last
    hypothesis on a metric gives it, as it always did."""
    import json

    if isinstance(hypotheses, str):
        try:
            hypotheses = json.loads(hypotheses)
        except ValueError:
            return {}
    out: dict[str, str] = {}
    for h in hypotheses or ():
        metric = h.get("metric") if isinstance(h, dict) else getattr(h, "metric", None)
        direction = h.get("direction") if isinstance(h, dict) else getattr(h, "direction", None)
        if isinstance(metric, str) and isinstance(direction, str):
            out[metric] = direction
    return out


class _Row:
    """The updater of one treatment x metric: bounded in the declared bounds (a hypothesis's
    ``bounds``), or while every value is 0/1, else the unbounded default. A value outside its
    declared bounds switches the row to the default over its whole history (a bounded interval
    over such data would be silently invalid) and the row's ``fallback`` says why. It keeps the
    running intersection of its interval at the level last shown; a new level replays the
    history once (the level changes only when the family's decisions do)."""

    def __init__(self, alpha: float, metric: str = "", declared: tuple[Any, ...] | None = None) -> None:
        from ..stats.family import Hulls

        self.alpha = alpha
        self.metric = metric
        # (low, high[, method]) of the metric's values, when declared
        self.declared = Declared(*declared) if declared is not None else None
        self.fallback = ""  # why the declared bounds are not used (a value outside them)
        self.non_finite = 0  # pairs left out for a nan or inf on either side
        self.hulls = Hulls()
        self.seq: Any = None
        self.pairs: list[tuple[float, float]] = []
        self.total = 0.0  # sum of the differences: the estimate without a pass over them
        self.trajectory: list[tuple[int, float, float, float]] = []  # (n, estimate, low, high)
        self.level: float | None = None  # the alpha its row was last shown at
        self.p_path: list[float] = []  # level_p after each pair: when a decision was first made

    def _fresh(self, bounded: bool) -> Any:
        from ..stats.sequential import SequentialDifference

        if not bounded:
            return SequentialDifference(alpha=self.alpha)
        low, high, method = self.declared or Declared(0.0, 1.0)
        return SequentialDifference(method, low=low - high, high=high - low, alpha=self.alpha)

    def _outside(self, base: float, treat: float) -> float | None:
        if self.declared is None:
            return None
        low, high, _ = self.declared
        return next((v for v in (treat, base) if not low <= v <= high), None)

    def add(self, base: Any, treat: Any) -> None:
        from ..stats.family import Hulls

        if not all(isinstance(v, (int, float)) for v in (base, treat)):
            return  # text or missing values have no difference
        if not (math.isfinite(base) and math.isfinite(treat)):
            self.non_finite += 1  # a diverged loss: left out as a missing value, and said
            return
        outside = None if self.fallback else self._outside(float(base), float(treat))
        if self.declared is not None:
            bounded = not self.fallback and outside is None
        else:
            bounded = _is_binary(base) and _is_binary(treat)
        if self.seq is None:
            self.seq = self._fresh(bounded)
        elif self.seq.method in ("bounded", "betting") and not bounded:
            # Outside the declared bounds, or not a 0/1 metric after all: the default method
            # over the whole history.
            if outside is not None:
                low, high, _ = self.declared  # type: ignore[misc]
                self.fallback = (f"{self.metric}={outside:g} outside declared [{low:g}, {high:g}]: "
                                 f"{self._fresh(False).method} sequence used")
            self.seq = self._fresh(False)
            self.hulls = Hulls()
            self.p_path = []
            for b, t in self.pairs:
                self.seq.update_pair(b, t)
                self.p_path.append(self.seq.level_p())
        self.pairs.append((float(base), float(treat)))
        self.total += float(treat) - float(base)
        self.seq.update_pair(float(base), float(treat))
        self.p_path.append(self.seq.level_p())
        self.hulls.update(self.seq, list(self.hulls.bounds))

    def decided_at(self, level: float) -> int | None:
        """The replicate (1-based pair count) at which the row first reached ``level``."""
        return next((i + 1 for i, p in enumerate(self.p_path) if p <= level), None)

    def hull(self, level: float) -> tuple[float, float]:
        """The running intersection at ``level`` (from now on the one kept up to date)."""
        from ..stats.family import Hulls
        from ..stats.sequential import SequentialDifference

        if level not in self.hulls.bounds:
            seq = self.seq
            replay = SequentialDifference(seq.method, seq.low, seq.high, seq.alpha, seq.target_n,
                                          seq.burn_in, seq.skew_gate)
            self.hulls = Hulls()
            for b, t in self.pairs:  # look by look, as if it had been kept from the start
                replay.update_pair(b, t)
                self.hulls.update(replay, [level])
        return self.hulls.at(level)


class AnytimeStatistics:
    """Per replicate outcomes in, per treatment x metric confidence sequences out.

    A replicate number counts once it is over in every condition (a round): its paired
    differences go into each row's incremental updater, so an update costs O(new
    replicates). Across rows ``correction`` (stats/family.py): "holm" (default; family-wise,
    step-down on the anytime p-values), "bonferroni", or "e-bh" (false discovery rate)."""

    def __init__(self, conditions: Iterable[str], alpha: float = 0.05,
                 directions: dict[str, str] | None = None, rows: int | None = None,
                 correction: str | None = None, trajectory: bool = False,
                 bounds: dict[str, tuple[Any, ...]] | None = None) -> None:
        from ..stats.family import check_correction

        self.bounds = dict(bounds or {})  # metric -> declared (low, high[, method]) of its values
        self.correction = check_correction(correction)
        self.conditions = list(conditions)
        self.keep_trajectory = trajectory  # each row's interval after every round (for charts)
        self.baseline = self.conditions[0] if self.conditions else "baseline"
        self.alpha = alpha
        self.directions = dict(directions or {})  # metric -> "greater" | "less" | "two-sided"
        self._expected_rows = rows
        self._open: dict[int, dict[str, dict[str, Any] | None]] = {}
        self._rows: dict[tuple[str, str], _Row] = {}
        self.rounds = 0  # replicate numbers over in every condition
        self.completed: set[int] = set()  # which ones

    def family_size(self) -> int:
        return max(self._expected_rows or 0, len(self._rows), 1)

    def row_alpha(self) -> float:
        """What each row's bets are tuned for (alpha / m): Holm's and Bonferroni's first step."""
        count = self._expected_rows or max(len(self._rows), len(self.conditions) - 1, 1)
        return self.alpha / max(count, 1)

    def _levels(self) -> list[float]:
        from ..stats.family import holm_levels

        m = self.family_size()
        if self.correction == "holm":
            return holm_levels(m, self.alpha)
        return [self.alpha / m] if self.correction == "bonferroni" else []

    def add(self, condition: str, replicate: int, metrics: dict[str, Any] | None) -> bool:
        """One replicate over (``metrics`` None: failed); True when it completed a round."""
        if condition not in self.conditions:
            return False
        seen = self._open.setdefault(replicate, {})
        seen[condition] = metrics
        if len(seen) < len(self.conditions):
            return False
        del self._open[replicate]
        self.rounds += 1
        self.completed.add(replicate)
        base = seen.get(self.baseline)
        if base is None:
            return True
        if not self._rows and self._expected_rows is None:
            # The first full round names the rows: alpha is split over all of them.
            self._expected_rows = sum(1 for t in self.conditions[1:] if seen.get(t)
                                      for m in seen[t] if m in base) or None  # type: ignore[union-attr]
        for treatment in self.conditions[1:]:
            values = seen.get(treatment)
            if values is None:
                continue
            for metric, value in values.items():
                if metric in base:
                    row = self._rows.get((treatment, metric))
                    if row is None:
                        row = self._rows[(treatment, metric)] = _Row(self.row_alpha(), metric,
                                                                     self.bounds.get(metric))
                    row.add(base[metric], value)
                    if self.keep_trajectory and row.seq is not None:
                        row.trajectory.append((row.seq.n, row.total / row.seq.n,
                                               *self._shown_bounds(row)))
        return True

    def add_events(self, events: Iterable[Any]) -> None:
        for e in events:
            if isinstance(e, ev.ReplicateFinished):
                self.add(e.treatment, e.replicate, dict(e.metrics))
            elif isinstance(e, ev.ReplicateFailed):
                self.add(e.treatment, e.replicate, None)

    def _shown_bounds(self, row: _Row) -> tuple[float, float]:
        """The row's interval at the level its table row was last shown at (the family's
        first step, alpha/m, before any look), so a chart and the table agree."""
        level = row.level if row.level is not None else self.alpha / self.family_size()
        if self.correction == "e-bh":
            current = row.seq.interval_at(level)
            return current.lower, current.upper
        return row.hull(level)

    def trajectories(self, metric: str) -> dict[str, list[tuple[int, float, float, float]]]:
        """Per treatment, (n, estimate, low, high) of ``metric``'s row after each round
        (empty unless made with ``trajectory=True``); copies, safe to hand to another thread."""
        return {t: list(row.trajectory) for (t, m), row in self._rows.items() if m == metric}

    def rows(self) -> list[AnytimeRow]:
        """Each row at the current look, decided (or not) by the family's correction, its
        interval at the level of that decision."""
        if not self._rows:  # no metric yet: no scipy import for nothing
            return []
        from ..stats import family

        live = [(key, row) for key, row in self._rows.items() if row.seq is not None]
        m = self.family_size()
        if self.correction == "e-bh":
            chosen = family.ebh([row.seq.e_value() for _, row in live] + [0.0] * (m - len(live)),
                                self.alpha)
        else:
            # level_p: the smallest level whose running intersection excludes 0, read on the
            # grid of Holm's steps (stats/family.py says why that is valid at any look).
            levels = self._levels()
            p = [family.on_grid(row.seq.level_p(), levels)
                 for _, row in live] + [1.0] * (m - len(live))  # rows not seen yet: undecided
            chosen = (family.holm if self.correction == "holm" else family.bonferroni)(p, self.alpha)
        out = []
        for i, ((treatment, metric), row) in enumerate(live):
            seq = row.seq
            rejected, level = chosen.rejected[i], chosen.levels[i]
            row.level = level  # the level charts record this row's trajectory at
            current = seq.interval_at(level)
            if self.correction == "e-bh":
                bounds = (current.lower, current.upper)
            else:
                if rejected and not seq.level_p() <= level:  # pragma: no cover - grid rounding
                    level = p[i]
                bounds = row.hull(level)
            estimate = row.total / seq.n if seq.n else math.nan
            decision = self._decision(bounds, estimate, metric) if rejected else "undecided"
            out.append(AnytimeRow(treatment, metric, seq.n, estimate, bounds[0], bounds[1],
                                  seq.p_value(), decision, seq.method, seq.assumes,
                                  self._note(row, current.note, level if rejected else None),
                                  level, self.correction))
        return out

    @staticmethod
    def _note(row: _Row, look: str, decided_level: float | None) -> str:
        """The row's note: why its declared bounds are not used, and the current look's
        (burn-in, skewness). A decided row keeps its decision from an earlier look, so a look
        that could not decide on its own is told as that, not as "no decision before N"."""
        if look and decided_level is not None:
            at = row.decided_at(decided_level)
            why = look.split(":")[0]
            look = (f"decided at replicate {at}, kept (anytime-valid: a later look cannot undo it);"
                    f" this look alone: {why}") if at is not None else look
        left_out = f"{row.non_finite} pair(s) with nan/inf left out" if row.non_finite else ""
        return " · ".join(part for part in (row.fallback, left_out, look) if part)

    def _decision(self, bounds: tuple[float, float], estimate: float, metric: str) -> str:
        """A decided row's side: "better"/"worse" where a hypothesis says which way is good
        ("less": lower is better), else "higher"/"lower" (a loss going up is not "better")."""
        from ..stats.sequential import decide

        plain = decide(bounds)
        if plain == "undecided":  # e-BH's e-value and the interval's bets may differ slightly
            plain = "better" if estimate > 0 else "worse"
        direction = self.directions.get(metric)
        if direction in ("greater", "less"):
            flip = direction == "less"
            return {"better": "worse", "worse": "better"}[plain] if flip else plain
        return {"better": "higher", "worse": "lower"}[plain]

    def family(self) -> str:
        """Which correction decides the rows, in words (shown on screen and in JSON)."""
        from ..stats.family import describe

        return describe(self.correction, self.family_size(), self.alpha)

    def note(self) -> str:
        return ANYTIME_NOTE.format(family=self.family())


def anytime_family(result: Any, rows: list[Any]) -> str:
    """The correction across a finished run's anytime rows, in words: its stop rule's at the
    stopping look, else Holm's across ``rows`` (what ``anytime_rows`` decided them with)."""
    stop = getattr(result, "stop", None)
    if stop and stop.get("family"):
        return str(stop["family"])
    return AnytimeStatistics(result.conditions, rows=len(rows) or None).family()


def result_bounds(result: Any) -> dict[str, Declared]:
    """A Result's declared bounds: its experiment's ``metric_bounds`` and its hypotheses'."""
    return declared_bounds(getattr(result, "declared_hypotheses", []),
                           getattr(result, "metric_bounds", None))


def anytime_rows(result: Any, correction: str | None = None) -> list[AnytimeRow]:
    """The anytime-valid rows over a whole Result's replicates, in replicate order."""
    hypotheses = getattr(result, "declared_hypotheses", [])
    stats = AnytimeStatistics(result.conditions, directions=declared_directions(hypotheses),
                              correction=correction, bounds=result_bounds(result))
    for outcome in sorted(result.replicate_results, key=lambda o: o.replicate):
        stats.add(outcome.treatment, outcome.replicate,
                  dict(outcome.metrics) if outcome.status == OK else None)
    return stats.rows()


def _figure(x: float) -> str:
    return "inf" if x == math.inf else ("-inf" if x == -math.inf else f"{x:.4g}")


def anytime_line(row: AnytimeRow | dict[str, Any], assumptions: bool = True) -> str:
    """One row as text: "fast x: +1.02 [0.81, 1.23] at alpha 0.025 n=40 decided: better (...)";
    without ``assumptions`` the method, what it assumes and the note are left to a footnote."""
    r = row.as_dict() if isinstance(row, AnytimeRow) else row
    note = f" · {r['note']}" if r.get("note") else ""
    level = f" at alpha {r['level']:.3g}" if isinstance(r.get("level"), (int, float)) else ""
    head = (f"{r['treatment']} {r['metric']}: {_figure(r['estimate'])} "
            f"[{_figure(r['lower'])}, {_figure(r['upper'])}]{level} n={r['n']} {r['anytime']}")
    return f"{head} ({r['method']}: {r['assumes']}){note}" if assumptions else head


def stop_head(stop: dict[str, Any]) -> str:
    """The first line: "stopped: decided at replicate 40 (2 more finished after the stop, kept)"."""
    reason = stop.get("reason")
    if reason in ("decided", "width", "at look"):
        after = stop.get("finished_after") or 0
        kept = f" ({after} more finished after the stop, kept)" if after else ""
        return f"stopped: {reason} at replicate {stop.get('stopping_replicate')}{kept}"
    state = "decided" if stop.get("decided") else "undecided"
    return f"ran to the cap ({stop.get('stopping_replicate')} replicates, rule {stop.get('until')}): {state}"


def stop_lines(stop: dict[str, Any]) -> list[str]:
    """What a run with a stop rule says at its end: why it ended, where, and each row there
    (the rows as they stood at the stopping look, not after replicates still running then)."""
    cap = stop.get("max_replicates")
    capped = f", cap {cap}" if cap else ""
    rule = f"rule {stop['until']}{capped}" if stop.get("until") else "no stop rule"
    head = stop_head(stop)
    if stop.get("reason") in ("decided", "width", "at look"):
        head += f" ({rule})"
    lines = [head]
    if stop.get("family"):
        at = " at the stopping look" if stop.get("finished_after") else ""
        lines.append(f"  anytime-valid rows{at}: {stop['family']}")
    return [*lines, *("  " + anytime_line(r) for r in stop.get("rows", []))]
