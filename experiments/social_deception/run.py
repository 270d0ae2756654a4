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

from crystallize_tui import Experiment, Hypothesis, Treatment  # noqa: E402

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
    options.setdefault("hypotheses", [Hypothesis(**h) for h in HYPOTHESES])
    options.update(overrides)
    return Experiment(**options)


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
    # turn_delay is a key of every condition's config: set it everywhere at once.
    run_options = {"overrides": {"turn_delay": args.turn_delay}} if args.turn_delay > 0 else {}
    if args.debug:
        exp.debug(treatment=args.debug, replicate=0)
        return
    result = exp.run(**run_options)
    print(result.compare())
    for verdict in result.hypotheses:
        print(verdict)


if __name__ == "__main__":
    main()
