"""Stop when decided: the stop rule of a run and the monitor the runner feeds after each replicate.

The rule ("decided", or "width=W": every interval narrower than W) looks at the anytime-valid
confidence sequences of watch/live_stats.py, updated once per complete round (a replicate
number over in every condition; core/plan.py starts replicates round by round). When the rule
holds, no new replicate starts and the run's status reads "stopped: decided" (or "stopped:
width"); at the cap (``max_replicates``) the run simply ends, decided or not. Across rows the
rule's ``correction`` decides (stats/family.py): Holm (default), Bonferroni, or e-BH for a false
discovery rate.

With a worker pool, replicates already running when the rule holds still finish: they are
kept in the store, never lost, but the rule's answer is the one *at the stopping look* (the
rows as they stood then, ``stopping_replicate`` complete rounds); ``finished_after`` counts the
replicates kept beyond that look. Reading the rows again with them would be a look the rule
never made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

STOPPED = "stopped"  # status prefix: "stopped: decided", "stopped: width", "stopped: at look"


def stopped_status(reason: str) -> str:
    return f"{STOPPED}: {reason}"


def is_stopped(status: str | None) -> bool:
    return bool(status) and str(status).startswith(STOPPED + ":")


@dataclass(frozen=True)
class StopRule:
    """``until`` "decided" or "width" (with ``width``); ``max_replicates`` caps the run;
    ``correction`` across rows: "holm", "bonferroni" or "e-bh"."""

    until: str
    width: float | None = None
    max_replicates: int | None = None
    correction: str = "holm"

    def describe(self) -> str:
        if self.until == "width":
            return f"width={self.width:g}"
        return self.until

    def as_dict(self) -> dict[str, Any]:
        return {"until": self.describe(), "max_replicates": self.max_replicates,
                "correction": self.correction}


def check_correction(value: Any) -> str:
    """"holm", "bonferroni" or "e-bh" (None: holm); a ConfigError naming the value otherwise."""
    from ..stats._data import DataError
    from ..stats.family import check_correction as check

    try:
        return check(value)
    except DataError as exc:
        raise ConfigError(str(exc)) from None


def parse_stop(value: Any, max_replicates: int | None = None,
               correction: str | None = None) -> StopRule | None:
    """``None``, "decided" or "width=0.02" (a StopRule passes through) as a StopRule."""
    if max_replicates is not None and (isinstance(max_replicates, bool)
                                       or not isinstance(max_replicates, int) or max_replicates < 1):
        raise ConfigError(f"max_replicates must be a whole number >= 1, got {max_replicates!r}")
    if value is None:
        if max_replicates is not None:
            raise ConfigError("max_replicates needs a stop rule: stop='decided' or 'width=0.02'")
        if correction is not None:
            raise ConfigError("correction needs a stop rule: stop='decided' or 'width=0.02'")
        return None
    if isinstance(value, StopRule):
        return StopRule(value.until, value.width,
                        value.max_replicates if max_replicates is None else max_replicates,
                        value.correction if correction is None else check_correction(correction))
    fix = check_correction(correction)
    text = str(value).strip()
    if text == "decided":
        return StopRule("decided", None, max_replicates, fix)
    if text.startswith("width="):
        try:
            width = float(text[len("width="):])
        except ValueError:
            width = -1.0
        if not width > 0:
            raise ConfigError(f"stop {text!r}: the width must be a number > 0, like width=0.02")
        return StopRule("width", width, max_replicates, fix)
    raise ConfigError(f"stop {value!r}: choose 'decided' or 'width=W' (like width=0.02)")


def summary_at_look(conditions: list[str], outcomes: list[Any], hypotheses: list[Any] = (),
                    kept: list[Any] = (), metric_bounds: Any = None) -> dict[str, Any]:
    """Where a run without a stop rule stood when it was stopped at a look: its anytime rows
    over ``outcomes`` (those finished at the stop); ``finished_after`` counts the replicates
    of ``kept`` (all the run kept) outside that look's rounds (a pool's running ones)."""
    monitor = StopMonitor(StopRule("look"), conditions, list(hypotheses), metric_bounds=metric_bounds)
    for outcome in sorted(outcomes, key=lambda o: o.replicate):
        monitor.stats.add(outcome.treatment, outcome.replicate,
                          dict(outcome.metrics) if outcome.status == "ok" else None)
    return {**monitor.summary(stopped_by_user=True, outcomes=kept or outcomes), "until": None}


class StopMonitor:
    """Fed each finished replicate; says why to stop once the rule holds at a complete round."""

    def __init__(self, rule: StopRule, conditions: list[str], hypotheses: list[Any] = (),
                 alpha: float = 0.05, metric_bounds: Any = None) -> None:
        from ..watch.live_stats import AnytimeStatistics, declared_bounds

        self.rule = rule
        directions = {h.metric: h.direction for h in hypotheses}
        self.hypotheses = list(hypotheses)
        self.treatments = [c for c in conditions[1:]]
        self.stats = AnytimeStatistics(conditions, alpha=alpha, directions=directions,
                                       correction=rule.correction,
                                       bounds=declared_bounds(self.hypotheses, metric_bounds))
        self.reason: str | None = None
        self.stopped_at: int | None = None  # complete rounds at the stop
        self.at_stop: list[dict[str, Any]] | None = None  # the rows at the stopping look

    def _watched(self, rows: list[Any]) -> list[Any]:
        """The rows the rule is about: the hypotheses' (metric, treatment)s, else all."""
        if not self.hypotheses:
            return rows
        wanted = {(t, h.metric) for h in self.hypotheses for t in (h.treatments or self.treatments)}
        return [r for r in rows if (r.treatment, r.metric) in wanted]

    def observe(self, condition: str, replicate: int, metrics: dict[str, Any] | None) -> str | None:
        """The reason to stop now, else None (and None again once it has said it)."""
        if self.reason is not None or not self.stats.add(condition, replicate, metrics):
            return None
        rows = self._watched(self.stats.rows())
        if not rows:
            return None
        if self.rule.until == "decided":
            holds = all(r.decision != "undecided" for r in rows)
        else:
            holds = all(r.width <= (self.rule.width or 0.0) for r in rows)
        if holds:
            self.reason = self.rule.until
            self.stopped_at = self.stats.rounds
            self.at_stop = [r.as_dict() for r in self.stats.rows()]
        return self.reason

    def summary(self, stopped_by_user: bool = False, outcomes: list[Any] = ()) -> dict[str, Any]:
        """What the store and ``run --json`` keep: the rule, why it ended, the rows at the
        stopping look, and ``finished_after``: replicates of ``outcomes`` (the run's kept ones)
        outside the rounds of that look, which finished after it (a pool's running replicates)."""
        rows = self.stats.rows()
        reason = self.reason or ("at look" if stopped_by_user else None)
        looked = self.stats.completed
        after = sum(1 for o in outcomes if o.replicate not in looked)
        return {**self.rule.as_dict(), "reason": reason or "cap",
                "decided": all(r.decision != "undecided" for r in self._watched(rows)) and bool(rows),
                "stopping_replicate": self.stopped_at or self.stats.rounds, "finished_after": after,
                "family": self.stats.family(), "note": self.stats.note(),
                "rows": self.at_stop if self.at_stop is not None else [r.as_dict() for r in rows]}
