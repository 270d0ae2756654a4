"""The live statistics feed: the comparison over replicates done in every condition, what it
assumes, its pacing, and `crystallize attach` showing it to a late watcher."""

from __future__ import annotations

import time

from cli_support import start_cli
from test_live_runs import WAIT_S, detach, read_until, stored, wait_for, workspace  # noqa: F401

from crystallize_tui.core import events as ev
from crystallize_tui.watch.live_stats import MIN_INTERVAL_S, LiveStatistics


def finished(condition: str, k: int, x: float) -> ev.ReplicateFinished:
    return ev.ReplicateFinished("r", condition, k, 0.0, k, 0.01, {"x": x})


def test_only_replicates_done_in_every_condition_are_compared_and_the_note_says_so():
    live = LiveStatistics("exp", ["baseline", "fast"], 7)
    live.add([finished("baseline", k, float(k)) for k in range(6)])
    live.add([finished("fast", k, float(k) + 1) for k in (0, 1, 2, 5)])  # 3 and 4 not yet
    table = live.compute()
    assert table.replicates == 4
    (row,) = list(table.comparison)
    assert row.metric == "x" and row.treatment == "fast"
    assert row.n_baseline == row.n_treatment == 4  # replicates 0, 1, 2 and 5, paired
    assert row.difference == 1.0
    assert "4 replicate(s) done in every condition" in table.note
    assert "not a verdict" in table.note


def test_the_feed_is_due_again_only_after_new_replicates_and_its_pacing():
    live = LiveStatistics("exp", ["baseline", "fast"], 7)
    assert not live.due()  # nothing to compare
    live.add([finished("baseline", 0, 1.0), finished("fast", 0, 2.0)])
    assert live.due()
    before = time.monotonic()
    live.compute()
    assert not live.due(now=live.next_at)  # nothing new
    live.add([ev.RunStarted("r", None, None, 0.0, "exp", ("baseline", "fast"), 2, 7, 4)])
    assert not live.due(now=live.next_at)  # not a replicate
    live.add([finished("baseline", 1, 1.0)])
    assert live.next_at >= before + MIN_INTERVAL_S  # paced: a second at least after it
    assert not live.due(now=live.next_at - 0.01)  # new, but too soon
    assert live.due(now=live.next_at)
    assert not LiveStatistics("exp", ["baseline"], 7).comparable


def test_a_late_watcher_sees_live_statistics_then_the_final_table(workspace):  # noqa: F811
    run_id = detach(workspace)
    wait_for(lambda: stored(workspace, run_id) == 6, "replicates 0-2 of both conditions")
    watcher = start_cli(workspace, "attach", run_id)
    seen = read_until(watcher, "not a verdict")
    text = "\n".join(seen)
    assert "3 replicate(s) done in every condition" in text
    # The anytime-valid row of fast - baseline on x: its interval (infinite in the burn-in),
    # its decision and what its method assumes; never a fixed-n verdict mid-run.
    assert "fast x: 1 [-inf, inf] at alpha 0.05 n=3 undecided (asymptotic: finite variance" in text
    assert "burn-in: 3 of 30 replicates" in text
    assert "significant" not in text
    (workspace / "experiments" / "slow" / "hold").unlink()
    out, err = watcher.communicate(timeout=WAIT_S)
    assert watcher.returncode == 0, err
    tail = out[out.index("[fast #7] line of 7"):]
    assert "difference" in tail or "x" in tail.splitlines()[1:-1].__str__()  # a final table
    assert "not a verdict" not in tail
    assert tail.splitlines()[-1].startswith(f"run {run_id} completed: 16 replicate(s) ok")


def test_the_anytime_rows_decide_once_an_interval_excludes_0_and_say_what_they_assume():
    import random

    live = LiveStatistics("exp", ["baseline", "fast"], 7)
    rng = random.Random(3)
    for k in range(60):
        live.add([ev.ReplicateFinished("r", "baseline", k, 0.0, k, 0.01, {"x": rng.gauss(0, 1), "won": False}),
                  ev.ReplicateFinished("r", "fast", k, 0.0, k, 0.01, {"x": rng.gauss(2, 1), "won": True})])
        if k == 10:
            early = {r.metric: r for r in live.anytime().rows}
    assert early["x"].label == "undecided" and "burn-in" in early["x"].note  # asymptotic waits
    now = live.anytime()
    rows = {r.metric: r for r in now.rows}
    assert now.replicates == 60
    assert rows["x"].label == "decided: higher" and rows["x"].lower > 0
    assert rows["x"].method == "asymptotic" and "finite variance" in rows["x"].assumes
    assert rows["won"].method == "bounded" and rows["won"].label == "decided: higher"
    assert "Holm step-down across 2 row(s)" in now.note
    # A replicate done in one condition only is not in any row yet.
    live.add([finished("baseline", 60, 0.0)])
    assert live.anytime().replicates == 60


def test_better_or_worse_only_where_a_hypothesis_says_which_way_is_good():
    """A loss that goes down is "better" when a hypothesis says less is better; without one
    the row says "lower", never calling a rising loss "better"."""
    from crystallize_tui.watch.live_stats import AnytimeStatistics

    def decided(directions):
        stats = AnytimeStatistics(["baseline", "t"], directions=directions)
        for k in range(200):
            stats.add("baseline", k, {"loss": 1.0 + 0.01 * (k % 7), "acc": 0.5 + 0.01 * (k % 5)})
            stats.add("t", k, {"loss": 0.5 + 0.013 * (k % 5), "acc": 0.7 + 0.01 * (k % 3)})
        return {r.metric: r.decision for r in stats.rows()}

    assert decided({}) == {"loss": "lower", "acc": "higher"}
    assert decided({"loss": "less", "acc": "greater"}) == {"loss": "better", "acc": "better"}
    assert decided({"loss": "greater", "acc": "less"}) == {"loss": "worse", "acc": "worse"}
    assert decided({"loss": "two-sided"})["loss"] == "lower"
