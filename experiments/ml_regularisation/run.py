"""Run the regularisation experiment: how learning rate and L2 change a small logistic model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# The step module lives beside this script; make it importable however it was started.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from logreg import train  # noqa: E402

from crystallize_tui import Experiment, Hypothesis, Treatment  # noqa: E402

# Mirrors experiment.yaml.
BASELINE = {
    "n_train": 40,
    "n_test": 400,
    "features": 40,
    "informative": 4,
    "noise": 0.5,
    "learning_rate": 1.0,
    "l2": 0.0,
    "epochs": 60,
}
HYPOTHESES = [
    {"metric": "test_loss", "direction": "less"},
    {"metric": "accuracy", "direction": "two-sided"},
]


def build_experiment(**overrides: Any) -> Experiment:
    """The experiment of experiment.yaml; keyword arguments override Experiment's."""
    options: dict[str, Any] = {
        "name": "ml_regularisation",
        "description": "Does L2 regularisation beat a faster learning rate on held-out data?",
        "datasource": dict(BASELINE),
        "pipeline": [train],
        "replicates": 8,
        "seed": 42,
        "treatments": [
            Treatment("strong_l2", {"l2": 0.1}),
            Treatment("high_lr", {"learning_rate": 3.0}),
        ],
    }
    options.setdefault("hypotheses", [Hypothesis(**h) for h in HYPOTHESES])
    options.update(overrides)
    return Experiment(**options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    exp = build_experiment(replicates=args.replicates, seed=args.seed)
    result = exp.run()
    print(result.compare())
    for verdict in result.hypotheses:
        print(verdict)


if __name__ == "__main__":
    main()
