"""crystallize-ml's csv_pipeline_example, written for this tool: sample rows of a CSV, normalise,
PCA, explained variance; the treatment reads another CSV."""

from __future__ import annotations

import csv
import math
import statistics
import sys
from pathlib import Path
from typing import Any

from crystallize_tui import Experiment, Hypothesis, Result, Treatment

HERE = Path(__file__).resolve().parent


def load_csv(config: dict[str, Any], ctx: Any) -> list[list[float]]:
    """The datasource of crystallize-ml became the first step: the config names the file."""
    with open(HERE / config["csv_path"], newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        fields = reader.fieldnames or []
    sampled = ctx.rng.sample(rows, min(4, len(rows)))  # ctx.rng instead of the global random
    return [[float(row[f]) + ctx.rng.uniform(-0.05, 0.05) for f in fields] for row in sampled]


def normalize(data: list[list[float]]) -> list[list[float]]:
    columns = list(zip(*data, strict=True))
    means = [statistics.mean(c) for c in columns]
    stdevs = [statistics.pstdev(c) or 1.0 for c in columns]
    return [[(v - m) / s for v, m, s in zip(row, means, stdevs, strict=True)] for row in data]


def pca(data: list[list[float]]) -> dict[str, list[float]]:
    xs, ys = zip(*data, strict=True)
    mx, my = statistics.mean(xs), statistics.mean(ys)
    var_x, var_y = statistics.pvariance(xs), statistics.pvariance(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / len(data)
    trace, det = var_x + var_y, var_x * var_y - cov**2
    first = trace / 2 + math.sqrt(max((trace / 2) ** 2 - det, 0.0))
    return {"eigenvalues": [first, trace - first]}


def explained_variance(data: dict[str, list[float]], ctx: Any) -> float:
    total = sum(data["eigenvalues"])
    ratio = data["eigenvalues"][0] / total if total else 0.0
    ctx.metrics.add("explained_variance", ratio)
    return ratio


def build(store: Any = None) -> Experiment:
    return Experiment(
        name="csv_pipeline",
        datasource={"csv_path": "data/baseline.csv"},
        pipeline=[load_csv, normalize, pca, explained_variance],
        treatments=[Treatment("better_data", {"csv_path": "data/treatment.csv"})],
        hypotheses=[Hypothesis("explained_variance", direction="two-sided", test="welch")],
        replicates=10,
        store=store,
    )


def main(store: Any = None) -> Result:
    result = build(store).run(echo=False)
    print(result.hypotheses[0])
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
