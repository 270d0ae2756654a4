"""The run screen's charts view: cost of a build (worker thread) and of showing it (UI thread).

    python bench/charts_tui.py [--quick]

A build reads the replicates (here: handed in, as the store would give them), computes the
means and bands, draws the braille canvas and colours it: all in the charts' worker thread,
at most every BUILD_INTERVAL while a run goes. The UI thread only takes the finished Text
(``show``) and paints it in the frame. Both are compared with their budgets: the build with
BUDGET x BUILD_INTERVAL (the share of the time it may take), the UI side with one frame at
60 Hz. Also: what keeping the anytime trajectory costs the live statistics per round."""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time

from rich.console import Console

from crystallize_tui.core.result import OK, ReplicateResult
from crystallize_tui.tui.widgets.chart import drawn
from crystallize_tui.tui.widgets.chart_feed import ChartFeed
from crystallize_tui.tui.widgets.chart_pane import BUDGET, BUILD_INTERVAL
from crystallize_tui.watch.live_stats import AnytimeStatistics

FRAME_S = 1 / 60
CONDITIONS = ["baseline", "strong_l2", "high_lr"]
CHART = (100, 14)  # one of the two charts in the pane at 160x48


def replicates(n: int, epochs: int) -> list[ReplicateResult]:
    """``n`` replicates per condition: a loss curve of ``epochs`` values and a 0/1 win."""
    rng = random.Random(1)
    out = []
    for k in range(n):
        for i, c in enumerate(CONDITIONS):
            curve = [(1 + i * 0.1) / (1 + e) + rng.gauss(0, 0.01) for e in range(epochs)]
            values = [("loss", v) for v in curve] + [("win", int(rng.random() < 0.4 + 0.1 * i))]
            out.append(ReplicateResult(c, k, k, OK, values, 0.01))
    return out


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def live_trajectories(reps: list[ReplicateResult]):
    """What the live statistics feed hands the charts: its kept trajectories."""
    stats = AnytimeStatistics(CONDITIONS, trajectory=True)
    for r in reps:
        stats.add(r.treatment, r.replicate, r.metrics)
    return stats.trajectories


def build_cost(n: int, epochs: int, metric: str, curves: bool = False,
               stored: bool = False) -> float:
    """Live (default): the feed holds ``n`` replicates per condition, one more round comes
    in, the charts are built over all of them with the live feed's trajectories. Stored:
    the first build of a stored run, the anytime trajectories recomputed from the replicates."""
    reps = replicates(n + 1, epochs)
    last_round = reps[-len(CONDITIONS):]
    trajectories = None if stored else live_trajectories(reps)
    feed = ChartFeed(CONDITIONS)
    feed.add(reps[:-len(CONDITIONS)])

    def build() -> None:
        nonlocal feed
        if stored:
            feed = ChartFeed(CONDITIONS)
            feed.add(reps)
        else:
            feed.add(last_round)  # new replicates: whatever was derived is derived again
            feed._derived.clear()
        pair = feed.charts(metric, curves, trajectories)
        drawn(pair.main, *CHART, True)
        if pair.difference is not None:
            drawn(pair.difference, *CHART, True)

    return best(build, 3)


def paint_cost(n: int) -> float:
    """Rendering the finished Text to segments at the chart's width: the frame's share."""
    feed = ChartFeed(CONDITIONS)
    feed.add(replicates(n, 60))
    _, text = drawn(feed.charts("loss").main, *CHART, True)
    console = Console(width=CHART[0], color_system="truecolor", file=open("/dev/null", "w"))  # noqa: SIM115
    return best(lambda: list(console.render(text)), 20)


async def show_cost(n: int) -> float:
    """On the UI thread in the real app: ChartsPane's handler of a finished build."""
    from textual.app import App, ComposeResult

    from crystallize_tui.tui.widgets.chart_pane import ChartSource, ChartsPane

    reps = replicates(n, 60)

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield ChartsPane(id="charts")

    app = One()
    async with app.run_test(size=(104, 40)) as pilot:
        pane = app.query_one(ChartsPane)
        pane.display = True
        await pilot.pause()
        result = ChartFeed(CONDITIONS)
        result.add(reps)
        pane.set_source(ChartSource("bench", CONDITIONS, result=result.result()))
        costs = []
        for _ in range(5):
            builds = pane.builds
            pane.rebuild()
            while pane.builds == builds:
                await pilot.pause(0.01)
            costs.append(pane.show_cost)
        return min(costs)


def trajectory_cost(rounds: int, keep: bool) -> float:
    rng = random.Random(2)
    rows = [[(c, k, {"win": int(rng.random() < 0.5), "score": rng.gauss(0, 1)})
             for c in CONDITIONS] for k in range(rounds)]

    def feed() -> None:
        stats = AnytimeStatistics(CONDITIONS, trajectory=keep)
        for row in rows:
            for c, k, m in row:
                stats.add(c, k, m)

    return best(feed, 3) / rounds


def main(quick: bool) -> None:
    sizes = (100, 1000) if quick else (100, 1000, 5000)
    print(f"budget of a build: {BUDGET:.0%} of {BUILD_INTERVAL} s = {BUDGET * BUILD_INTERVAL * 1e3:.0f} ms; "
          f"a frame: {FRAME_S * 1e3:.1f} ms; two charts of {CHART[0]}x{CHART[1]} cells")
    print("| replicates per condition | live build: loss (60 steps) | win (scalar) | + replicate curves "
          "| stored, first build | live build / budget | next build after | show on UI thread "
          "| paint | UI / frame |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    import crystallize_tui.stats  # noqa: F401 - scipy's import is not a build's cost
    for n in sizes:
        series = build_cost(n, 60, "loss")
        scalar = build_cost(n, 60, "win")
        faint = build_cost(n, 60, "loss", curves=True) if n <= 1000 else float("nan")
        stored = build_cost(n, 60, "loss", stored=True)
        shown = asyncio.run(show_cost(n))
        paint = paint_cost(n)
        worst = max(series, scalar)
        print(f"| {n:,} | {series * 1e3:.0f} ms | {scalar * 1e3:.0f} ms | {faint * 1e3:.0f} ms | "
              f"{stored * 1e3:.0f} ms | {worst / (BUDGET * BUILD_INTERVAL):.2f} | "
              f"{max(BUILD_INTERVAL, worst / BUDGET):.1f} s | {shown * 1e3:.2f} ms | "
              f"{2 * paint * 1e3:.2f} ms | {(shown + 2 * paint) / FRAME_S:.2f} |")
    rounds = 2000 if quick else 10000
    on, off = trajectory_cost(rounds, True), trajectory_cost(rounds, False)
    print(f"\nanytime feed per round (3 conditions, 2 metrics): {off * 1e6:.1f} µs without the "
          f"trajectory, {on * 1e6:.1f} µs keeping it ({statistics.mean([on / off]):.2f}x)")


if __name__ == "__main__":
    main("--quick" in sys.argv)
