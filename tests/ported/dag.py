"""crystallize-ml's dag_experiment, written for this tool: two producers average their readings
and save average.json; comfort_index reads both (from_runs) and runs them first if stale."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from crystallize_tui import (
    ArtifactPlugin,
    Experiment,
    Result,
    Treatment,
    from_run,
    from_runs,
    run_upstream,
)


def average(config: dict[str, Any], ctx: Any) -> float:
    avg = sum(config["readings"]) / len(config["readings"]) * config["factor"]
    ctx.artifacts.save("average.json", {"avg": avg})
    ctx.metrics.add("avg", avg)
    return avg


def comfort_index(data: Any, ctx: Any) -> float:
    # data["temp"] and data["humidity"]: replicate k of each producer's run (path-like).
    temp = json.loads(data["temp"].read_text())["avg"]
    humidity = json.loads(data["humidity"].read_text())["avg"]
    ctx.metrics.add("comfort", temp - humidity)
    return temp - humidity


def build(root: Path) -> Experiment:
    """The graph: the producers' "scaled" treatment (factor 1.5, as crystallize-ml applied to
    the whole graph) is read by the consumer's "scaled" condition (same name)."""
    store = root / "dag.db"
    scaled = [Treatment("scaled", {"factor": 1.5})]
    artifacts = [ArtifactPlugin(root / "dag_output")]
    temperature = Experiment(name="temperature_stats", datasource={"readings": [20, 22, 21], "factor": 1.0},
                             pipeline=[average], treatments=scaled, plugins=artifacts, store=store)
    humidity = Experiment(name="humidity_stats", datasource={"readings": [0.4, 0.5, 0.45], "factor": 1.0},
                          pipeline=[average], treatments=scaled, plugins=artifacts, store=store)
    return Experiment(
        name="comfort_index",
        datasource=from_runs(temp=from_run(temperature, "average.json"),
                             humidity=from_run(humidity, "average.json")),
        pipeline=[comfort_index], treatments=[Treatment("scaled")], store=store,
    )


def main(root: Path) -> Result:
    comfort = build(root)
    run_upstream(comfort)  # crystallize-ml's ExperimentGraph.run(): producers first
    result = comfort.run(echo=False)
    print({c: result.metrics[c].metrics["comfort"] for c in result.conditions})
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="dag-")))
