"""Chart numbers equal a direct computation; the canvas draws what the chart holds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from crystallize_tui.charts import canvas, data
from crystallize_tui.charts.model import Chart, Line
from crystallize_tui.core.result import FAILED, OK, ReplicateResult, Result
from crystallize_tui.render import palette
from crystallize_tui.stats.sequential import SequentialDifference


def _result(conditions: dict[str, list[list[tuple[str, float]]]]) -> Result:
    """A real Result from each condition's replicates' recorded (name, value) lists."""
    outcomes = [ReplicateResult(c, k, k, OK if values else FAILED, values, 0.0)
                for c, reps in conditions.items() for k, values in enumerate(reps)]
    replicates = max(len(r) for r in conditions.values())
    return Result(run_id="r1", experiment="e", seed=1, replicates=replicates,
                  conditions=list(conditions), configs={}, outcomes=outcomes, status="completed")


def test_series_mean_and_bands_equal_numpy_and_scipy():
    rng = np.random.default_rng(3)
    reps = [list(rng.normal(size=6)) for _ in range(5)] + [list(rng.normal(size=3))]
    chart = data.series_chart({"baseline": reps, "t": reps[:2]}, "loss", band="iqr")
    base = chart.lines[0]
    for step in range(6):
        at = [r[step] for r in reps if len(r) > step]  # the short replicate stops at step 3
        assert base.ys[step] == pytest.approx(np.mean(at))
        assert base.low[step] == pytest.approx(np.percentile(at, 25))
        assert base.high[step] == pytest.approx(np.percentile(at, 75))
    ci = data.series_chart({"baseline": reps}, "loss", band="ci").lines[0]
    at = [r[0] for r in reps]
    low, high = sps.t.interval(0.95, len(at) - 1, loc=np.mean(at), scale=sps.sem(at))
    assert (ci.low[0], ci.high[0]) == (pytest.approx(low), pytest.approx(high))
    assert [line.condition for line in chart.lines] == [0, 1]
    with_reps = data.series_chart({"baseline": reps}, "loss", replicates=True)
    assert sum(line.faint for line in with_reps.lines) == len(reps)


def test_distribution_points_per_replicate_and_mean_interval():
    values = {"baseline": [1.0, 2.0, 2.0, 4.0], "t": [3.0, 3.5, 5.0]}
    chart = data.distribution_chart(values, "score")
    assert [len(p.ys) for p in chart.points] == [4, 3]
    iv = chart.intervals[1]
    low, high = sps.t.interval(0.95, 2, loc=np.mean(values["t"]), scale=sps.sem(values["t"]))
    assert (iv.centre, iv.low, iv.high) == (pytest.approx(np.mean(values["t"])),
                                             pytest.approx(low), pytest.approx(high))
    assert [label for _, label in chart.x_ticks] == ["baseline", "t"]


def test_run_extraction_kinds_and_anytime_trajectory_equal_a_direct_update():
    rng = np.random.default_rng(5)
    n = 40
    base_acc, treat_acc = rng.normal(0.5, 0.1, n), rng.normal(0.8, 0.1, n)

    def rep(acc: float, loss: list[float]) -> list[tuple[str, float]]:
        return [*(("loss", v) for v in loss), ("acc", float(acc))]

    result = _result({
        "baseline": [rep(a, [1.0, 0.5 + k]) for k, a in enumerate(base_acc)],
        "fast": [rep(a, [0.9, 0.4]) if k != 3 else [] for k, a in enumerate(treat_acc)],
    })
    assert data.run_metric_kinds(result) == {"loss": "series", "acc": "scalar"}
    series = data.replicate_series(result, "loss")
    assert series["baseline"][2] == [1.0, 2.5] and len(series["fast"]) == n - 1  # 3 failed
    assert data.replicate_values(result, "acc")["baseline"] == pytest.approx(list(base_acc))

    # One row (acc alone): Holm's only level is alpha, and the row shows the running
    # intersection of the sequence's intervals (valid at every look, so it may only shrink).
    result = _result({
        "baseline": [[("acc", float(a))] for a in base_acc],
        "fast": [[("acc", float(a))] if k != 3 else [] for k, a in enumerate(treat_acc)],
    })
    traj = data.anytime_trajectories(result, "acc")["fast"]
    seq = SequentialDifference(alpha=0.05)
    expected, low, high = [], -math.inf, math.inf
    for k in range(n):
        if k == 3:
            continue  # the failed replicate pairs with nothing
        seq.update_pair(base_acc[k], treat_acc[k])
        iv = seq.interval()
        low, high = max(low, iv.lower), min(high, iv.upper)
        expected.append((seq.n, low, high))
    assert [(n_, lo, hi) for n_, _, lo, hi in traj] == [
        (n_, pytest.approx(lo), pytest.approx(hi)) for n_, lo, hi in expected]
    chart = data.anytime_chart({"fast": traj}, "acc", result.conditions)
    first = next(n_ for n_, lo, hi in expected if lo > 0 or hi < 0)
    assert f"fast: decided at replicate {first}" in chart.notes
    assert chart.hlines[0].y == 0.0 and chart.lines[0].condition == 1


def test_canvas_draws_each_condition_in_its_colour_with_axes_legend_and_zero_line():
    chart = data.anytime_chart({"a": [(n, 2.0, 2.0 - 2 / n, 2.0 + 2 / n) for n in range(2, 30)],
                                "b": [(n, -2.0, -2.0 - 1 / n, -2.0 + 1 / n) for n in range(2, 30)]},
                               "x", ["baseline", "a", "b"])
    drawing = canvas.draw(chart, 80, 24)
    assert len(drawing.lines) == 24 and all(len(line) <= 80 for line in drawing.lines)
    drawn = {c for row in drawing.colours for c in row}
    assert {1, 2, canvas.REFERENCE} <= drawn  # both treatments and the zero line
    text = drawing.text()
    assert "■ a" in text and "■ b" in text and "replicates" in text
    zero_rows = [r for r, row in enumerate(drawing.colours)
                 if row.count(canvas.REFERENCE) > 40]  # a dotted line across the plot
    assert zero_rows and drawing.lines[zero_rows[0]].endswith("0")
    assert canvas.draw(chart, 20, 6).too_small and "needs" in canvas.draw(chart, 30, 6).text()


def test_canvas_survives_empty_infinite_and_constant_data():
    inf = math.inf
    for chart in (Chart("empty", "x", "y"),
                  Chart("inf", "x", "y", lines=(Line("a", 0, (1.0, 2.0), (0.0, 0.0),
                                                     (-inf, -1.0), (inf, 1.0)),)),
                  data.distribution_chart({"a": [2.0] * 500}, "flat")):
        drawing = canvas.draw(chart, 80, 24)
        assert len(drawing.lines) == 24


def test_palette_reads_on_both_themes():
    for colour in palette.COLOURS:
        assert palette.contrast(colour, palette.LIGHT_BACKGROUND) >= 3
        assert palette.contrast(colour, palette.DARK_BACKGROUND) >= 3
    assert list(palette.condition_colours(["baseline", "t"]).values()) == list(palette.COLOURS[:2])


@pytest.mark.parametrize("values", [[1e308, -1e308, 0.0], [5e-324, 0.0], [2**80, 1],
                                    [math.inf, 1.0], [math.nan, 1.0], [1.0, 1.0 + 1e-15]])
def test_hostile_numbers_and_names_still_draw_and_give_valid_svg(values):
    import xml.etree.ElementTree as ET

    from crystallize_tui.charts import svg

    charts = [data.distribution_chart({"<a&b>": values, 'x"y': [1.0, 2.0]}, "m</svg>"),
              data.series_chart({"a": [values, values]}, "m"),
              data.anytime_chart({"t": [(1, v, v - 1, v + 1) for v in values]}, "m")]
    for chart in charts:
        assert len(canvas.draw(chart, 80, 24).lines) == 24
        root = ET.fromstring(svg.to_svg(chart))
        assert root.find("{http://www.w3.org/2000/svg}title").text == chart.title


def test_live_trajectories_in_arrival_order_equal_the_replay_of_the_run():
    rng = np.random.default_rng(9)
    reps = {c: [[("acc", float(v))] for v in rng.normal(mu, 0.1, 12)]
            for c, mu in (("baseline", 0.5), ("a", 0.6), ("b", 0.5))}
    result = _result(reps)
    live = data.Trajectories(["baseline", "a", "b"])
    # Replicates finish out of order across conditions, as with parallel workers.
    arrivals = sorted((k + (c == "baseline") * 1.5 - (c == "b"), c, k)
                       for c in reps for k in range(12))
    completed = [live.add(c, k, dict(reps[c][k])) for _, c, k in arrivals]
    assert sum(completed) == 12
    assert live.of("acc") == data.anytime_trajectories(result, "acc")
    assert [p[0] for p in live.of("acc")["a"]] == list(range(1, 13))


def test_a_strip_too_dense_for_its_row_says_how_many_points_it_left_out():
    chart = data.distribution_chart({"baseline": [0, 1] * 250, "t": [1] * 10}, "win")
    drawing = canvas.draw(chart, 80, 24)
    assert drawing.hidden_points > 0
    assert f"{drawing.hidden_points} point(s) not drawn" in drawing.text()
    assert canvas.draw(data.distribution_chart({"a": [0, 1] * 5}, "win"), 80, 24).hidden_points == 0


def test_sparkline_scales_buckets_and_leaves_gaps():
    from crystallize_tui.charts.sparkline import sparkline

    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([3.0, 3.0]) == "▄▄" and sparkline([]) == ""
    assert sparkline([1.0, math.nan, 2.0]) == "▁ █"
    assert sparkline(list(range(100)), width=4) == "▁▃▆█"  # bucket means 12, 37, 62, 87
    assert sparkline([5.0], low=0, high=10) == "▅"


def test_a_rate_gets_wilson_interval_inside_zero_one():
    """0/1 values (win, converted): the interval is Wilson's, within [0, 1], as scipy gives it."""
    from scipy import stats as st

    m, lo, hi = data.mean_ci([1, 0, 0, 0, 1])
    ci = st.binomtest(2, 5).proportion_ci(confidence_level=0.95, method="wilson")
    assert m == 0.4 and (lo, hi) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert data.mean_ci([1, 1, 1])[1:] == (pytest.approx(st.binomtest(3, 3).proportion_ci(
        method="wilson").low), 1.0)
    chart = data.distribution_chart({"baseline": [1, 0, 0, 0, 1]}, "win")
    assert "(Wilson)" in chart.notes[0]
