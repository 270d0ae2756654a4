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

from crystallize_tui import Experiment, Result, Treatment  # noqa: E402
from crystallize_tui.stats import compare_samples  # noqa: E402

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
    options.update(overrides)
    return Experiment(**options)


def print_summary(result: Result, hypotheses: list[dict[str, Any]]) -> None:
    """Per condition: replicates that finished and each metric's mean; then the tests."""
    print(f"\n{result.experiment}: mean of each metric over replicates")
    for name in result.conditions:
        cond = result.metrics[name]
        done = sum(1 for rep in cond.replicates if rep is not None and rep.ok)
        means = []
        for metric, values in cond.metrics.items():
            xs = [v for v in values if v is not None]
            # A series (loss per epoch) is summarised by its last value.
            label = (
                f"{metric}[last]" if any(len(s or ()) > 1 for s in cond.series(metric)) else metric
            )
            means.append(f"{label}={sum(xs) / len(xs):.3f}" if xs else f"{label}=n/a")
        print(f"{name:<18} n={done:<4} {'  '.join(means)}")
    for hyp in hypotheses:
        base = result.metrics.baseline.metrics.get(hyp["metric"], [])
        for name, cond in result.metrics.treatments.items():
            cmp = compare_samples(
                base,
                cond.metrics.get(hyp["metric"], []),
                alternative=hyp["direction"],
                test=hyp.get("test", "auto"),
            )
            p = "n/a" if cmp.p_value is None else f"{cmp.p_value:.3g}"
            print(
                f"{hyp['metric']} {name} vs baseline ({hyp['direction']}): "
                f"{cmp.test}, p={p}: {cmp.verdict}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    exp = build_experiment(replicates=args.replicates, seed=args.seed)
    print_summary(exp.run(), HYPOTHESES)


if __name__ == "__main__":
    main()
