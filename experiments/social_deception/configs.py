"""Configs of the social deception game: the baseline table and the gemma_prey swap."""

from __future__ import annotations

from typing import Any


def baseline_config() -> dict[str, Any]:
    """Llama3 plays both sides (models are [mafia_model, town_model])."""
    return {"models": ["llama3", "llama3"], "players": 6, "turn_delay": 0}


def gemma_config() -> dict[str, Any]:
    """A different table: uncensored dolphin as the mafia, preying on a gemma3 town.

    A whole config rather than overrides, as a real study would load it from its own
    file; the experiment resolves it when the run starts.
    """
    return {"models": ["dolphin-llama3", "gemma3"], "players": 6, "turn_delay": 0}
