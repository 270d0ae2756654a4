"""The progress reducer (watch/progress.py): counts, failures, resume, elapsed and ETA from events."""

import pytest

from crystallize_tui.core import events as ev
from crystallize_tui.watch.progress import ProgressReducer, clock


def started(t=100.0, replicates=10, done_before=None, conditions=("baseline", "fast")):
    return ev.RunStarted("r1", None, None, t, "exp", tuple(conditions), replicates, 7,
                         replicates * len(conditions), dict(done_before or {}))


def finished(c, k, t):
    return ev.ReplicateFinished("r1", c, k, t, 1, 0.1, {"x": 1.0})


def failed(c, k, t):
    return ev.ReplicateFailed("r1", c, k, t, 1, 0.1, "ValueError: bad", "tb")


def test_counts_per_condition_with_failures_and_eta():
    r = ProgressReducer()
    r.feed(started())
    for k, t in ((0, 101.0), (1, 102.0)):
        r.feed(finished("baseline", k, t))
    r.feed(failed("baseline", 2, 103.0))
    r.feed(finished("fast", 0, 101.0))
    snap = r.snapshot(104.0)
    base, fast = snap.of("baseline"), snap.of("fast")
    assert (base.done, base.failed, base.total, base.remaining) == (3, 1, 10, 7)
    assert (fast.done, fast.failed, fast.remaining) == (1, 0, 9)
    assert snap.elapsed == pytest.approx(4.0)
    # 4 s for 3 replicates of baseline: 7 more take 4/3*7 s; fast: 4 s each, 9 left.
    assert base.eta == pytest.approx(4.0 / 3 * 7)
    assert fast.eta == pytest.approx(36.0)
    assert (snap.done, snap.failed, snap.total, snap.ended) == (4, 1, 20, False)


def test_eta_unknown_before_the_first_replicate_and_zero_when_done():
    r = ProgressReducer()
    r.feed(started(replicates=1))
    assert r.snapshot(150.0).of("baseline").eta is None
    r.feed(finished("baseline", 0, 101.0))
    assert r.snapshot(150.0).of("baseline").eta == 0.0


def test_resumed_run_starts_from_done_before_and_estimates_from_new_replicates_only():
    r = ProgressReducer()
    r.feed(started(done_before={"baseline": 8, "fast": 5}))
    snap = r.snapshot(110.0)
    assert [(c.condition, c.done, c.done_before, c.eta) for c in snap.conditions] == [
        ("baseline", 8, 8, None), ("fast", 5, 5, None)]  # nothing ran yet in this run: no ETA
    r.feed(finished("baseline", 8, 102.0))
    base = r.snapshot(102.0).of("baseline")
    # One replicate took 2 s in this run; the 8 done before took none of this run's time.
    assert (base.done, base.remaining, base.eta) == (9, 1, pytest.approx(2.0))


def test_the_clock_stops_at_the_run_duration_and_eta_goes_away_when_cancelled():
    r = ProgressReducer()
    r.feed(started())
    r.feed(finished("baseline", 0, 101.0))
    r.feed(ev.RunCancelled("r1", None, None, 130.0, 2.5, 1, 0))
    snap = r.snapshot(500.0)
    assert snap.ended and snap.elapsed == pytest.approx(2.5)
    assert snap.of("baseline").eta is None and snap.of("fast").eta is None


def test_run_finished_stops_the_clock_and_a_second_start_resets_counts():
    r = ProgressReducer()
    r.feed(started(replicates=1, conditions=("baseline",)))
    r.feed(failed("baseline", 0, 100.5))
    r.feed(ev.RunFinished("r1", None, None, 101.0, "failed", 1.0, 0, 1))
    snap = r.snapshot(200.0)
    assert (snap.done, snap.failed, snap.elapsed, snap.ended) == (1, 1, 1.0, True)
    r.feed(started(t=300.0, replicates=1, conditions=("baseline",)))  # run again
    snap = r.snapshot(301.0)
    assert (snap.done, snap.failed, snap.elapsed, snap.ended) == (0, 0, 1.0, False)


def test_other_events_change_nothing():
    r = ProgressReducer()
    assert r.feed(started())
    assert not r.feed(ev.Output("r1", "baseline", 0, 101.0, "stdout", "hello"))
    assert not r.feed(ev.MetricRecorded("r1", "baseline", 0, 101.0, "x", 1.0))
    assert r.snapshot(101.0).done == 0


def test_clock_reads_minutes_and_seconds():
    assert [clock(s) for s in (0, 59.9, 61, 7503)] == ["0:00", "0:59", "1:01", "125:03"]
