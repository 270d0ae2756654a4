"""Time to redraw a chart at terminal sizes 80x24..200x60 with 8..500 replicates, against the frame budget.

Run: ``python bench/charts.py`` (``--rounds N``, default 5; ``--json``; ``--plotext PATH``
adds plotext, PATH being a site-packages folder holding it, drawing the same data in the
same rounds). A redraw is what the run screen does when replicates arrive: build the Chart
from the per-replicate numbers (charts/data.py), draw it on the braille canvas
(charts/canvas.py) and turn it into rich Text (render/charts.py); "drawn only" is a resize
or a theme change (the Chart kept). Each time is given as a
share of the frame budget (1/60 s) and as a multiple of a floor measured in the same
rounds: writing the same width x height cells as coloured rich Text with no chart logic
(the least any terminal chart costs). Rows interleave by round, so load on a shared
machine falls on all alike; the table shows the median and the best round. Times are the
process's CPU time (``--wall`` for wall-clock): under a load of 7 on 2 cores the wall time
of one redraw varied 3x between rounds, the CPU time far less.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.text import Text  # noqa: E402

from crystallize_tui.charts import canvas, data  # noqa: E402
from crystallize_tui.render.charts import drawing_text  # noqa: E402

FRAME_S = 1 / 60
SIZES = ((80, 24), (120, 40), (200, 60))
REPLICATES = (8, 50, 500)
EPOCHS = 60
CONDITIONS = ("baseline", "strong_l2", "high_lr")


def make_data(n: int, seed: int = 1) -> dict[str, object]:
    """Loss curves (EPOCHS per replicate), a scalar per replicate and an anytime trajectory."""
    rng = random.Random(seed)
    curves = {c: [[(0.3 + 0.1 * i) * math.exp(-e / 12) + 0.05 * rng.random()
                   for e in range(EPOCHS)] for _ in range(n)] for i, c in enumerate(CONDITIONS)}
    scalars = {c: [rng.gauss(0.7 + 0.02 * i, 0.05) for _ in range(n)]
               for i, c in enumerate(CONDITIONS)}
    traj = {c: [(k, 0.02 * i, 0.02 * i - 1 / math.sqrt(k), 0.02 * i + 1 / math.sqrt(k))
                for k in range(1, n + 1)] for i, c in enumerate(CONDITIONS[1:], 1)}
    return {"curves": curves, "scalars": scalars, "traj": traj}


def redraws(d: dict[str, object], width: int, height: int) -> dict[str, Callable[[], object]]:
    curves, scalars, traj = d["curves"], d["scalars"], d["traj"]

    def series() -> object:
        return drawing_text(canvas.draw(data.series_chart(curves, "loss"), width, height))

    def series_replicates() -> object:
        chart = data.series_chart(curves, "loss", replicates=True)
        return drawing_text(canvas.draw(chart, width, height))

    def distribution() -> object:
        return drawing_text(canvas.draw(data.distribution_chart(scalars, "acc"), width, height))

    def anytime() -> object:
        chart = data.anytime_chart(traj, "acc", list(CONDITIONS))
        return drawing_text(canvas.draw(chart, width, height))

    prebuilt = data.series_chart(curves, "loss")

    def series_draw() -> object:
        return drawing_text(canvas.draw(prebuilt, width, height))

    def floor() -> object:
        # The same cells as coloured Text, with no chart logic at all.
        text = Text()
        for r in range(height):
            for c in range(0, width, 8):
                text.append("⣿" * min(8, width - c), style=f"color({(r + c) % 8})")
            text.append("\n")
        return text

    return {"floor": floor, "series": series, "series, drawn only (chart built before)": series_draw, "series + each replicate": series_replicates,
            "distribution": distribution, "anytime": anytime}


def plotext_redraws(plt: object, d: dict[str, object], width: int, height: int
                    ) -> dict[str, Callable[[], object]]:
    """The same mean curves and strips with plotext (6.x API): its one figure is module
    state (``plotext.figure``), cleared each time, so it cannot draw from two threads."""
    curves, scalars = d["curves"], d["scalars"]
    fig = plt.figure

    def series() -> object:
        fig.clear()
        fig.plot_size(width, height)
        for c, reps in curves.items():
            means = [statistics.fmean(r[e] for r in reps) for e in range(EPOCHS)]
            fig.draw(fig.signal(list(range(1, EPOCHS + 1)), means, marker="braille").label(c))
        return str(fig.build())

    def distribution() -> object:
        fig.clear()
        fig.plot_size(width, height)
        for i, (c, vals) in enumerate(scalars.items()):
            fig.draw(fig.signal([i] * len(vals), vals, marker="braille").label(c))
        return str(fig.build())

    return {"plotext series (means only)": series, "plotext distribution (points only)":
            distribution}


def run(rounds: int, plotext_path: str | None, cpu: bool = True
        ) -> dict[str, dict[str, list[float]]]:
    plt = None
    if plotext_path:
        sys.path.insert(0, plotext_path)
        import plotext as plt  # noqa: PLC0415 - optional, from the path given
    times: dict[str, dict[str, list[float]]] = {}
    datasets = {n: make_data(n) for n in REPLICATES}
    for fn in redraws(datasets[8], 80, 24).values():
        fn()  # a warm-up: imports (scipy.special for the t quantile) are not a redraw
    for _ in range(rounds):
        for (w, h) in SIZES:
            for n in REPLICATES:
                fns = redraws(datasets[n], w, h)
                if plt is not None:
                    fns.update(plotext_redraws(plt, datasets[n], w, h))
                for name, fn in fns.items():
                    # CPU time of this process: on a shared 2-core machine the wall time
                    # mostly measures the other sessions' load (README of RESULTS.md).
                    began = time.process_time() if cpu else time.perf_counter()
                    fn()
                    elapsed = (time.process_time() if cpu else time.perf_counter()) - began
                    times.setdefault(f"{w}x{h}", {}).setdefault(f"{name}|{n}", []).append(elapsed)
    return times


def report(times: dict[str, dict[str, list[float]]]) -> str:
    lines = ["| size | replicates | chart | median ms | best ms | x frame (1/60 s) | x floor |",
             "|---|---:|---|---:|---:|---:|---:|"]
    for size, rows in times.items():
        for key, values in rows.items():
            name, n = key.split("|")
            med = statistics.median(values)
            floor = statistics.median(rows[f"floor|{n}"])
            lines.append(f"| {size} | {n} | {name} | {med * 1e3:.2f} | {min(values) * 1e3:.2f} | "
                         f"{med / FRAME_S:.2f} | {med / floor:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--plotext", metavar="PATH", help="site-packages folder holding plotext")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--wall", action="store_true",
                        help="wall-clock time instead of the process's CPU time")
    args = parser.parse_args()
    times = run(args.rounds, args.plotext, cpu=not args.wall)
    if args.json:
        print(json.dumps({s: {k: statistics.median(v) for k, v in rows.items()}
                          for s, rows in times.items()}, indent=1))
    else:
        print(report(times))


if __name__ == "__main__":
    main()
