"""Declared bounds of a metric (``Hypothesis(metric, bounds=(low, high))``, YAML ``bounds:``):
the anytime-valid rows use the bounded sequence everywhere rows are made, a value outside
the bounds falls back to the default sequence saying why, and a kept decision's note."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from cli_support import cli, write_experiment

from crystallize_tui import Hypothesis
from crystallize_tui.core.errors import ConfigError
from crystallize_tui.stats.bernstein import eb_sequence
from crystallize_tui.stats.betting import betting_run, betting_sequence
from crystallize_tui.watch.live_stats import AnytimeStatistics, LiveStatistics

STEPS = '''
import random

def play(config, ctx):
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("score", rng.uniform(config["low"], 100.0))
    ctx.metrics.add("other", rng.uniform(config["low"], 100.0))
    ctx.metrics.add("acc", rng.uniform(config["low"] / 100.0, 1.0))
'''

YAML = """\
pipeline: [steps:play]
datasource: {low: 0.0}
replicates: 40
seed: 3
treatments:
  up: {low: 30.0}
hypotheses:
  - {metric: score, direction: greater, bounds: [0, 100]}
  - {metric: acc, bounds: [0, 1], anytime: betting}
"""


@pytest.mark.parametrize("bounds", [(100, 0), (1, 1), (0, math.inf), (math.nan, 1), ("0", 1),
                                    (True, 2), [1], "0-100"])
def test_bad_bounds_are_one_error_naming_the_metric(bounds):
    with pytest.raises(ConfigError) as info:
        Hypothesis("score", bounds=bounds)
    assert "hypothesis on 'score'" in str(info.value) and "bounds" in str(info.value)
    assert Hypothesis("score", bounds=[0, 100]).bounds == (0.0, 100.0)
    assert Hypothesis("score", bounds=[0, 100], anytime="betting").describe().endswith(
        "(test auto, alpha 0.05, bounds [0, 100] betting)")


@pytest.mark.parametrize("anytime, bounds, fragment", [
    ("bet", (0, 1), "anytime must be one of bounded, betting, got 'bet'"),
    ("betting", None, "anytime 'betting' needs the metric's bounds"),
])
def test_the_anytime_choice_is_checked(anytime, bounds, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Hypothesis("acc", bounds=bounds, anytime=anytime)


def test_one_metric_declared_with_two_bounds_is_refused():
    from crystallize_tui import Experiment

    with pytest.raises(ConfigError, match=r"hypotheses\[1\]: hypothesis on 'score': bounds"):
        Experiment("x", pipeline=[lambda c, ctx: None],
                   hypotheses=[Hypothesis("score", bounds=(0, 1)), Hypothesis("score", "greater", bounds=(0, 2))])
    Experiment("x", pipeline=[lambda c, ctx: None],  # the same bounds twice are fine
               hypotheses=[Hypothesis("score", bounds=(0, 1)), Hypothesis("score", "greater", bounds=(0, 1))])


def feed(stats: AnytimeStatistics, pairs, start: int = 0) -> None:
    for i, (b, t) in enumerate(pairs, start):
        stats.add("baseline", i, {"score": b})
        stats.add("up", i, {"score": t})


def test_declared_bounds_give_the_bounded_sequence_and_match_the_batch_one():
    rng = np.random.default_rng(4)
    pairs = list(zip(rng.uniform(0, 100, 60).tolist(), rng.uniform(0, 100, 60).tolist(), strict=True))
    stats = AnytimeStatistics(["baseline", "up"], bounds={"score": (0.0, 100.0)})
    feed(stats, pairs)
    (row,) = stats.rows()
    assert row.method == "bounded" and "[-100, 100]" in row.assumes and row.note == ""
    lo, hi = eb_sequence([t - b for b, t in pairs], -100.0, 100.0, 0.05)
    assert (row.lower, row.upper) == pytest.approx((lo[-1], hi[-1]))
    # Undeclared, the same floats are taken as unbounded.
    plain = AnytimeStatistics(["baseline", "up"])
    feed(plain, pairs)
    assert plain.rows()[0].method == "asymptotic"


def test_a_value_outside_the_bounds_falls_back_over_the_whole_history_and_says_why():
    rng = np.random.default_rng(5)
    pairs = list(zip(rng.uniform(0, 100, 50).tolist(), rng.uniform(20, 100, 50).tolist(), strict=True))
    pairs[40] = (130.0, 50.0)
    declared = AnytimeStatistics(["baseline", "up"], bounds={"score": (0.0, 100.0)})
    plain = AnytimeStatistics(["baseline", "up"])
    feed(declared, pairs)
    feed(plain, pairs)
    (row,), (ref,) = declared.rows(), plain.rows()
    assert row.method == "asymptotic"
    assert row.note.count("score=130 outside declared [0, 100]: asymptotic sequence used") == 1
    assert (row.lower, row.upper, row.p_value) == (ref.lower, ref.upper, ref.p_value)
    feed(declared, [(10.0, 20.0)], start=50)  # later values in bounds: it stays the default
    assert declared.rows()[0].method == "asymptotic"


def test_a_nan_or_inf_value_is_left_out_of_the_rows_and_said_not_a_crash():
    rng = np.random.default_rng(8)
    pairs = list(zip(rng.uniform(0, 100, 40).tolist(), rng.uniform(0, 100, 40).tolist(), strict=True))
    for bounds in ({"score": (0.0, 100.0)}, None):
        stats = AnytimeStatistics(["baseline", "up"], bounds=bounds)
        feed(stats, pairs[:20] + [(math.nan, 50.0), (50.0, math.inf)] + pairs[20:])
        clean = AnytimeStatistics(["baseline", "up"], bounds=bounds)
        feed(clean, pairs)
        (row,), (ref,) = stats.rows(), clean.rows()
        assert (row.n, row.lower, row.upper, row.method) == (40, ref.lower, ref.upper, ref.method)
        assert "2 pair(s) with nan/inf left out" in row.note


def test_monitored_every_replicate_the_declared_rows_cover_the_true_difference():
    """300 seeded runs of uniform scores in [0, 100] (true difference 10), each row's interval
    after every round as the charts record it: covered at every look in >= 1 - a - 3 SE."""
    runs, n, alpha = 300, 200, 0.05
    rng = np.random.default_rng(12)
    base = rng.uniform(0, 100, (runs, n))
    treat = rng.uniform(20, 100, (runs, n))
    covered = 0
    for r in range(runs):
        stats = AnytimeStatistics(["baseline", "up"], alpha=alpha, trajectory=True,
                                  bounds={"score": (0.0, 100.0)})
        feed(stats, zip(base[r].tolist(), treat[r].tolist(), strict=True))
        (path,) = stats.trajectories("score").values()
        covered += all(lo <= 10.0 <= hi for _, _, lo, hi in path)
    share = covered / runs
    se = math.sqrt(alpha * (1 - alpha) / runs)
    assert share >= 1 - alpha - 3 * se, share


def test_a_kept_decision_says_where_it_was_made_not_that_none_can_be_made():
    # 60 replicates clearly lower, then one far outlier: the current look is gated as
    # skewed, while the decision (anytime-valid) stands from replicate <= 60.
    rng = np.random.default_rng(6)
    diffs = rng.normal(-1.0, 0.5, 60).tolist() + [-30.0]
    stats = AnytimeStatistics(["baseline", "up"])
    feed(stats, [(0.0, d) for d in diffs])
    (row,) = stats.rows()
    assert row.label == "decided: lower"
    assert "skewed" in row.note and "no decision before" not in row.note
    k = int(row.note.split("decided at replicate ")[1].split(",")[0])
    assert 2 <= k <= 60


def test_a_run_keeps_its_bounds_for_json_the_store_charts_and_attach(tmp_path, capsys):
    from crystallize_tui.charts.data import anytime_trajectories
    from crystallize_tui.core.store import Store
    from crystallize_tui.watch.live_stats import anytime_rows

    write_experiment(tmp_path, "game", YAML, {"steps.py": STEPS})
    out = cli(tmp_path, "run", "game", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    rows = {r["metric"]: r for r in doc["comparison"]}
    assert rows["score"]["anytime_method"] == "bounded", rows["score"]
    assert rows["other"]["anytime_method"] == "asymptotic"
    assert rows["acc"]["anytime_method"] == "betting"
    store = Store(tmp_path / ".crystallize" / "crystallize.db")
    run_id = doc["run_id"]
    result = store.load(run_id)
    assert result.declared_hypotheses[0].bounds == (0.0, 100.0)
    stored = {r.metric: r for r in anytime_rows(result)}
    assert stored["score"].method == "bounded"
    last = anytime_trajectories(result, "score")["up"][-1]
    assert last[2:] == pytest.approx((stored["score"].lower, stored["score"].upper))
    # What `attach` and the attached screen feed: the store's row, its hypotheses as JSON.
    row = store.run_row(run_id)
    live = LiveStatistics(row["experiment"], json.loads(row["conditions"]), int(row["base_seed"]),
                          None, row["hypotheses"])
    live.add_stored(run_id, store.replicates(run_id))
    methods = {r.metric: r.method for r in live.anytime().rows}
    assert (methods["score"], methods["acc"], methods["other"]) == ("bounded", "betting", "asymptotic")
    from crystallize_tui.commands.live import _print_live_statistics

    capsys.readouterr()
    _print_live_statistics(store, run_id)  # what `attach` prints of a live run
    printed = capsys.readouterr().out
    assert "up score:" in printed and "(bounded: differences within [-100, 100]" in printed


def test_betting_rows_stream_as_the_batch_sequence_and_cover_under_monitoring():
    rng = np.random.default_rng(7)
    pairs = list(zip(rng.uniform(0, 1, 40).tolist(), rng.uniform(0.2, 1, 40).tolist(), strict=True))
    stats = AnytimeStatistics(["baseline", "up"], bounds={"score": (0.0, 1.0, "betting")})
    feed(stats, pairs)
    (row,) = stats.rows()
    assert row.method == "betting"
    lo, hi = betting_sequence([t - b for b, t in pairs], -1.0, 1.0, 0.05)
    assert (row.lower, row.upper) == pytest.approx((lo[-1], hi[-1]))
    # 300 seeded runs of uniform scores (true difference 0.1) monitored after every replicate:
    # covered at every look in >= 1 - a - 3 SE of them, and narrower than PrPl-EB at the end.
    runs, n, alpha = 300, 100, 0.05
    d = rng.uniform(0.2, 1, (runs, n)) - rng.uniform(0, 1, (runs, n))
    blo, bhi, _ = betting_run((d + 1) / 2, alpha, 0.5, grid=200)
    blo, bhi = 2 * blo - 1, 2 * bhi - 1
    share = ((blo <= 0.1) & (0.1 <= bhi)).all(axis=1).mean()
    assert share >= 1 - alpha - 3 * math.sqrt(alpha * (1 - alpha) / runs), share
    elo, ehi = eb_sequence(d, -1.0, 1.0, alpha)
    assert (bhi - blo)[:, -1].mean() < (ehi - elo)[:, -1].mean()


PILOT_STEP = '''
import random
import time

def play(config, ctx):
    time.sleep(0.01)
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    value = rng.uniform(config["low"], 100.0)
    ctx.metrics.add("score", 130.0 if ctx.replicate == 3 and ctx.treatment == "up" else value)
'''


async def test_the_run_screen_says_why_the_declared_bounds_are_not_used(tmp_path):
    from textual.widgets import Static
    from tui_support import app_for, cancel_after, start_run, text_of, until, write

    yaml_text = YAML.replace("replicates: 40", "replicates: 2000")
    write(tmp_path / "experiments" / "game", {"experiment.yaml": yaml_text, "steps.py": PILOT_STEP})
    app = app_for(tmp_path)
    # Wide enough for the decision's note beside it (narrower, the cell ends in "…" and
    # enter shows the note: tests/test_tui_80cols.py).
    async with app.run_test(size=(240, 48)) as pilot:
        screen = await start_run(app, pilot, "game")
        stats = screen.query_one("#stats")

        def said() -> bool:
            rows = [[str(c) for c in stats.get_row_at(i)] for i in range(stats.row_count)]
            return screen.running and any("score=130 outside declared [0, 100]" in cell
                                          for row in rows for cell in row)

        await until(pilot, said)  # live, while the run goes
        await cancel_after(pilot, screen, 0)
        # The run's own rows at its end (the final table's anytime column) use the same.
        from crystallize_tui.watch.live_stats import anytime_rows

        assert "cancelled" in text_of(screen.query_one("#verdicts", Static))
        (row,) = anytime_rows(screen.result)
        assert row.method == "asymptotic" and "score=130 outside declared" in row.note
