"""crystallize-ml's optimization_experiment, written for this tool: a grid search (ask/tell)
over ``delta``, one run per candidate with the candidate as an override."""

from __future__ import annotations

from typing import Any

from crystallize_tui import Experiment


def add_delta(config: dict[str, Any]) -> list[int]:
    return [x + config["delta"] for x in config["data"]]


def record_metric(data: list[int], ctx: Any) -> list[int]:
    ctx.metrics.add("sum", sum(data))
    return data


class GridSearch:
    """Ask for the next candidate, tell its objective; the best is the smallest."""

    def __init__(self, grid: list[int]) -> None:
        self.grid, self.scores = grid, []

    def ask(self) -> dict[str, int]:
        return {"delta": self.grid[len(self.scores)]}

    def tell(self, value: float) -> None:
        self.scores.append(value)

    def best(self) -> dict[str, int]:
        return {"delta": self.grid[self.scores.index(min(self.scores))]}


def main(trials: int = 3) -> dict[str, int]:
    experiment = Experiment(name="optimization", datasource={"data": [1, 2, 3], "delta": 0},
                            pipeline=[add_delta, record_metric], replicates=1, store=None)
    search = GridSearch([2, 0, 1])
    for _ in range(trials):
        result = experiment.run(overrides=search.ask(), echo=False)
        search.tell(sum(result.metrics["baseline"].metrics["sum"]))
    print(f"best: {search.best()}")
    return search.best()


if __name__ == "__main__":
    main()
