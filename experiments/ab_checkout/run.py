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

from crystallize_tui import Experiment, Hypothesis, Treatment  # noqa: E402

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
    options.setdefault("hypotheses", [Hypothesis(**h) for h in HYPOTHESES])
    options.update(overrides)
    return Experiment(**options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicates", type=int, default=400, help="users per arm")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    exp = build_experiment(replicates=args.replicates, seed=args.seed)
    result = exp.run()
    print(result.compare())
    for verdict in result.hypotheses:
        print(verdict)


if __name__ == "__main__":
    main()
