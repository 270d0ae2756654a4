"""The example experiments under experiments/: real runs, checked as a user would check them."""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import threading
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from crystallize_tui import Output, UserEvent
from crystallize_tui.stats import compare_samples

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "experiments"
EXAMPLES = ["social_deception", "ml_regularisation", "ab_checkout"]
CONDITIONS = {
    "social_deception": ["baseline", "dolphin_spoilers", "gemma_prey"],
    "ml_regularisation": ["baseline", "strong_l2", "high_lr"],
    "ab_checkout": ["baseline", "one_page", "green_button"],
}
# A few replicates each: enough to exercise every condition, fast enough for the suite.
SMALL = {"social_deception": 4, "ml_regularisation": 3, "ab_checkout": 30}
ALLOWED_KEYS = {
    "name",
    "description",
    "pipeline",
    "datasource",
    "replicates",
    "seed",
    "treatments",
    "hypotheses",
    "plugins",
}


@cache
def load_run(example: str) -> ModuleType:
    """Import an example's run.py by path (it puts its own folder on sys.path)."""
    path = EXAMPLES_DIR / example / "run.py"
    spec = importlib.util.spec_from_file_location(f"example_{example}_run", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_from(example: str, module: str) -> ModuleType:
    """Import ``module`` from an example's folder, as the YAML loader will."""
    folder = EXAMPLES_DIR / example
    assert (folder / f"{module}.py").is_file(), f"{example}: no {module}.py in the folder"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module(module)


def resolve_ref(example: str, ref: str) -> Any:
    """The object a "module:function" reference names."""
    module, _, name = ref.partition(":")
    assert module and name, f"{example}: {ref!r} is not module:function"
    fn = getattr(import_from(example, module), name, None)
    assert callable(fn), f"{example}: {ref!r} names nothing callable"
    return fn


def run_small(example: str, **options: Any) -> Any:
    exp = load_run(example).build_experiment(replicates=SMALL[example])
    return exp.run(echo=False, **options)


def in_range(example: str, metric: str, value: Any) -> bool:
    if example == "social_deception":
        return {
            "win": value in (0, 1),
            "rounds": isinstance(value, int) and value >= 1,
            "mafia_survivors": value in (0, 1),
        }[metric]
    if example == "ml_regularisation":
        if metric == "accuracy":
            return 0.0 <= value <= 1.0
        return math.isfinite(value) and value >= 0.0  # loss, test_loss
    return value in (0, 1)  # converted


EXPECTED_METRICS = {
    "social_deception": {"win", "rounds", "mafia_survivors"},
    "ml_regularisation": {"loss", "accuracy", "test_loss"},
    "ab_checkout": {"converted"},
}


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_condition_and_replicate_has_its_metrics_in_range(example: str) -> None:
    result = run_small(example)
    assert result.status == "completed" and not result.errors
    assert result.conditions == CONDITIONS[example]
    for condition in result.conditions:
        metrics = result.metrics[condition].metrics
        assert set(metrics) == EXPECTED_METRICS[example]
        for name, values in metrics.items():
            assert len(values) == SMALL[example]
            bad = [v for v in values if v is None or not in_range(example, name, v)]
            assert not bad, f"{example}/{condition}: {name} out of range: {bad}"


@pytest.mark.parametrize("example", EXAMPLES)
def test_same_seed_gives_identical_results(example: str) -> None:
    def values(result: Any) -> list[tuple[Any, ...]]:
        return [
            (r["treatment"], r["replicate"], r["metric"], r["index"], r["value"])
            for r in result.to_rows()
        ]

    assert values(run_small(example)) == values(run_small(example))


def test_ab_treatment_converts_more_with_default_replicates() -> None:
    result = load_run("ab_checkout").build_experiment().run(echo=False)
    base = result.metrics.baseline.metrics["converted"]
    treat = result.metrics.treatments["one_page"].metrics["converted"]
    assert len(base) == len(treat) == 400
    assert sum(treat) / len(treat) > sum(base) / len(base)
    # The example promises Fisher's exact test sees the lift at the default size.
    assert compare_samples(base, treat, alternative="greater", test="fisher").p_value < 0.05


def test_ml_loss_is_a_falling_series_per_replicate() -> None:
    result = run_small("ml_regularisation")
    epochs = result.configs["baseline"]["epochs"]
    for condition in result.conditions:
        for series in result.metrics[condition].series("loss"):
            assert series is not None and len(series) == epochs
            assert series[-1] < series[0]


def test_social_game_emits_turns_and_narrates_rounds() -> None:
    events: list[Any] = []
    run_small("social_deception", subscribers=[events.append])
    turns = [e for e in events if isinstance(e, UserEvent) and e.kind == "turn"]
    assert {(e.treatment, e.replicate) for e in turns} == {
        (c, k) for c in CONDITIONS["social_deception"] for k in range(SMALL["social_deception"])
    }
    assert {e.data["action"] for e in turns} == {"kill", "accuse"}
    assert all({"round", "actor", "target"} <= set(e.data) for e in turns)
    text = "".join(e.text for e in events if isinstance(e, Output))
    assert "Round 1:" in text and "wins after" in text


def test_social_game_with_turn_delay_stops_promptly_on_cancel() -> None:
    run = load_run("social_deception")
    exp = run.build_experiment()
    first_turn = threading.Event()

    def cancel_on_first_turn(event: Any) -> None:
        if isinstance(event, UserEvent) and not first_turn.is_set():
            first_turn.set()
            exp.cancel()

    result = exp.run(echo=False, subscribers=[cancel_on_first_turn],
                     overrides={"turn_delay": 0.05})
    assert first_turn.is_set() and result.cancelled
    # The game that saw the cancel stopped at its next turn: nothing finished at all.
    assert result.replicate_results == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_experiment_yaml_names_real_code_and_matches_run_py(example: str) -> None:
    spec = yaml.safe_load((EXAMPLES_DIR / example / "experiment.yaml").read_text())
    assert set(spec) <= ALLOWED_KEYS
    exp = load_run(example).build_experiment()
    assert spec.get("name", example) == example == exp.name
    assert (spec["replicates"], spec["seed"]) == (exp.replicates, exp.seed)
    assert [resolve_ref(example, ref) for ref in spec["pipeline"]] == exp.pipeline

    def config_of(source: Any) -> Any:
        return resolve_ref(example, source)() if isinstance(source, str) else source

    baseline = config_of(spec["datasource"])
    expected = {"baseline": baseline}
    for name, overrides in spec.get("treatments", {}).items():
        overrides = dict(overrides)
        base = config_of(overrides.pop("datasource")) if "datasource" in overrides else baseline
        expected[name] = {**base, **overrides}
    assert expected == exp.resolve_configs()

    for hyp in spec.get("hypotheses", []):
        assert set(hyp) <= {"metric", "direction", "test", "alpha"}
        assert hyp["direction"] in ("greater", "less", "two-sided")
        assert hyp["metric"] in EXPECTED_METRICS[example]
    assert spec.get("hypotheses", []) == load_run(example).HYPOTHESES
    assert [h.metric for h in exp.hypotheses] == [h["metric"] for h in spec.get("hypotheses", [])]
