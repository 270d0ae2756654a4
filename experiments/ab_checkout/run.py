"""Run the checkout A/B test: one replicate is one user session."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# The step module lives beside this script; make it importable however it was started.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from checkout import session  # noqa: E402

from crystallize_tui import Experiment, Result, Treatment  # noqa: E402
from crystallize_tui.stats import compare_samples  # noqa: E402

# Mirrors experiment.yaml. Fisher's test treats the arms as independent users, as in a
# real A/B test; here replicate k is one user seen in every arm, which only makes
# Fisher's test conservative.
HYPOTHESES = [{"metric": "converted", "direction": "greater", "test": "fisher"}]


def build_experiment(**overrides: Any) -> Experiment:
    """The experiment of experiment.yaml; keyword arguments override Experiment's."""
    options: dict[str, Any] = {
        "name": "ab_checkout",
        "description": "Does the one-page checkout convert more visitors?",
        "datasource": {"conversion_rate": 0.10},
        "pipeline": [session],
        "replicates": 400,
        "seed": 42,
        "treatments": [
            Treatment("one_page", {"conversion_rate": 0.16}),
            # A real but small lift: 400 users per arm are too few to see it.
            Treatment("green_button", {"conversion_rate": 0.11}),
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
            means.append(f"{metric}={sum(xs) / len(xs):.3f}" if xs else f"{metric}=n/a")
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
    parser.add_argument("--replicates", type=int, default=400, help="users per arm")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    exp = build_experiment(replicates=args.replicates, seed=args.seed)
    print_summary(exp.run(), HYPOTHESES)


if __name__ == "__main__":
    main()
