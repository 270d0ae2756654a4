"""Run the social deception experiment: does the model playing each side change who wins?"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# The step modules live beside this script; make them importable however it was started.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from configs import baseline_config, gemma_config  # noqa: E402
from game import run_game  # noqa: E402

from crystallize_tui import Experiment, Result, Treatment  # noqa: E402
from crystallize_tui.stats import compare_samples  # noqa: E402

# Mirrors experiment.yaml: town wins should drop when the mafia lies better.
HYPOTHESES = [{"metric": "win", "direction": "less"}]


def build_experiment(**overrides: Any) -> Experiment:
    """The experiment of experiment.yaml; keyword arguments override Experiment's."""
    options: dict[str, Any] = {
        "name": "social_deception",
        "description": "Do RLHF-tuned models deceive better?",
        "datasource": baseline_config(),
        "pipeline": [run_game],
        "replicates": 5,
        "seed": 42,
        "treatments": [
            Treatment("dolphin_spoilers", {"models": ["dolphin-llama3", "dolphin-llama3"]}),
            Treatment("gemma_prey", datasource=gemma_config),
        ],
    }
    options.update(overrides)
    return Experiment(**options)


def with_turn_delay(exp: Experiment, seconds: float) -> Experiment:
    """Slow every game down by ``seconds`` per turn, to watch it live."""
    exp.datasource = {**baseline_config(), "turn_delay": seconds}
    # gemma_prey swaps the whole config, so it needs the delay as its own override.
    exp.treatments = [
        Treatment(t.name, {**t.overrides, "turn_delay": seconds}, datasource=t.datasource)
        for t in exp.treatments
    ]
    return exp


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
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--turn-delay", type=float, default=0.0, help="seconds between turns")
    parser.add_argument(
        "--debug",
        metavar="CONDITION",
        help="play replicate 0 of one condition, printing every turn",
    )
    args = parser.parse_args(argv)
    exp = build_experiment(replicates=args.replicates, seed=args.seed)
    if args.turn_delay > 0:
        with_turn_delay(exp, args.turn_delay)
    if args.debug:
        exp.debug(treatment=args.debug, replicate=0)
        return
    print_summary(exp.run(), HYPOTHESES)


if __name__ == "__main__":
    main()
