"""crystallize-ml's minimal_experiment, written for this tool: add a delta, add noise, sum."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from crystallize_tui import Experiment, Hypothesis, Result, Treatment


def add_delta(config: dict[str, Any], ctx: Any) -> list[float]:
    # crystallize-ml injected `delta` from the context; here it is a config key.
    return [x + config["delta"] for x in config["data"]]


def add_random(data: list[float], ctx: Any) -> list[float]:
    return [x + ctx.rng.random() for x in data]  # ctx.rng: seeded per replicate


def compute_metrics(data: list[float]) -> tuple[list[float], dict[str, float]]:
    # crystallize-ml's idiom, kept as it was: the numbers are recorded as metrics.
    return data, {"result": sum(data)}


def build(store: Any = None) -> Experiment:
    return Experiment(
        name="minimal",
        datasource={"data": [0, 0, 0], "delta": 0.0},
        pipeline=[add_delta, add_random, compute_metrics],
        treatments=[Treatment("add_ten_treatment", {"delta": 10.0})],
        # crystallize-ml's verifier was a Welch t-test on "result": built in here.
        hypotheses=[Hypothesis("result", direction="greater", test="welch")],
        replicates=10,
        execution={"backend": "threads", "workers": 2},  # was ParallelExecution()
        store=store,
    )


def main(store: Any = None) -> Result:
    result = build(store).run(echo=False)
    print(result.hypotheses[0])
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
