"""The snippets of the founding documents (shared/seeds) run as written, import renamed."""

import random
from dataclasses import dataclass

from crystallize_tui import (
    ArtifactPlugin,
    Experiment,
    LoggingPlugin,
    ParallelExecution,
    SeedPlugin,
    Treatment,
    pipeline_step,
    quick_experiment,
)


@dataclass
class GameState:
    winner: str
    round_number: int


class Game:
    """Stands in for the seed's game object: it draws from the global random module."""

    def run(self):
        rounds = random.randint(2, 6)
        return GameState("aligned" if random.random() < 0.5 else "mafia", rounds)


game = Game()
my_config = {"model": "llama3"}


# --- "Metrics That Travel With Results" (verbatim) ---
@pipeline_step()
def run_game(config, ctx):
    state = game.run()

    # Metrics are bound to this replicate, this treatment
    ctx.metrics.add("win", 1 if state.winner == "aligned" else 0)
    ctx.metrics.add("rounds", state.round_number)

    return state


def test_why_crystallize_snippets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # --- "Replicates with Reproducibility" ---
    experiment = Experiment(
        datasource=my_config,
        pipeline=[run_game],
        replicates=10,
        plugins=[SeedPlugin(seed=42)]
    )
    # --- "Treatments as First-Class Citizens" ---
    experiment.treatments = [
        Treatment("dolphin_spoilers", {"model": "dolphin-llama3"}),
        Treatment("gemma_prey", {"model": "gemma3"}),
        Treatment("dolphin", {"model": "dolphin"}),  # the name the next snippet reads
    ]
    # --- "Statistical Comparison Built In" ---
    result = experiment.run()
    baseline_win_rate = result.metrics.baseline.metrics["win"]  # [0,1,1,0,1,...]
    treatment_win_rate = result.metrics.treatments["dolphin"].metrics["win"]
    assert len(baseline_win_rate) == 10 and set(baseline_win_rate) <= {0, 1}
    # SeedPlugin seeds the global random module per replicate: conditions are paired
    assert treatment_win_rate == baseline_win_rate
    # "Six months later, you can reproduce run #7 exactly."
    assert experiment.debug(treatment="dolphin", replicate=7, verbose=False).metrics == {
        "win": baseline_win_rate[7], "rounds": result.metrics.baseline.metrics["rounds"][7]
    }

    # --- "Plugins for Cross-Cutting Concerns" ---
    plugins = [
        SeedPlugin(seed=42, auto_seed=True),
        LoggingPlugin(verbose=True),
        ArtifactPlugin(root_dir="./data", versioned=True),
        ParallelExecution(max_workers=4),
    ]
    experiment.plugins = plugins
    parallel = experiment.run()
    assert parallel.metrics.baseline.metrics == result.metrics.baseline.metrics


def run_alignment_lab(config, ctx):
    ctx.metrics.add("bad_guy_wins", int(ctx.rng.random() < config["deception"]))


def test_real_example_and_roadmap_snippets(capsys):
    baseline_config = {"deception": 0.8}
    dolphin_config = {"deception": 0.8}
    gemma_config = {"deception": 1.0}
    # --- "Real Example: AI Social Deception" ---
    experiment = Experiment(
        name="social_deception",
        datasource=baseline_config,  # All Llama3
        pipeline=[run_alignment_lab],
        replicates=5,
    )

    experiment.treatments = [
        Treatment("dolphin_vs_llama", dolphin_config),
        Treatment("dolphin_vs_gemma", gemma_config),
    ]

    result = experiment.run()
    assert result.metrics.treatments["dolphin_vs_gemma"].metrics["bad_guy_wins"] == [1] * 5

    # --- Honest feedback: "What I wanted" ---
    experiment.add_treatment("dolphin", datasource=dolphin_config)
    assert experiment.config_for("dolphin") == dolphin_config
    # --- "First-class debug mode" ---
    experiment.debug(treatment="dolphin")
    # --- "Streaming results" ---
    for result in experiment.stream():
        print(f"Replicate {result.replicate}: {result.metrics}")
    out = capsys.readouterr().out
    assert "Replicate 4: {'bad_guy_wins':" in out
    # --- "The On-Ramp" ---
    config1, config2 = {"deception": 0.0}, {"deception": 1.0}
    results = quick_experiment(
        fn=run_alignment_lab,
        configs={"baseline": config1, "treatment": config2},
        replicates=5
    )
    assert results == {"baseline": {"bad_guy_wins": [0] * 5}, "treatment": {"bad_guy_wins": [1] * 5}}
