"""Simulated model profiles: how well each model lies and how well it spots a liar."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """A model's social skills on a 0..1 scale."""

    deception: float  # how convincingly it lies while playing mafia
    detection: float  # how well it reads the other players while playing town


# Stand-ins for the real models of the founding experiment. The numbers are invented, but
# ordered as the transcripts suggested: the uncensored dolphin lies freely and reads
# others poorly; the small gemma is easy prey.
PROFILES: dict[str, Profile] = {
    "llama3": Profile(deception=0.50, detection=0.50),
    "dolphin-llama3": Profile(deception=0.70, detection=0.45),
    "gemma3": Profile(deception=0.35, detection=0.25),
    "mistral": Profile(deception=0.45, detection=0.45),
}

# How strongly the skill gap moves a vote, and how much each extra day of talk helps the
# town (more statements to contradict). Tuned so an even llama3-vs-llama3 game is won by
# the mafia more often than not, as in the founding runs.
SHARPNESS = 4.0
EVIDENCE_PER_ROUND = 0.5
BIAS = -1.0


def profile(name: str) -> Profile:
    """The profile of model ``name``; a clear error names the known models."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown model {name!r}; known models: {known}") from None


def spot_chance(town: Profile, mafia: Profile, round_number: int) -> float:
    """Chance that one town voter accuses a real mafia member on day ``round_number``."""
    gap = town.detection - mafia.deception
    score = SHARPNESS * gap + EVIDENCE_PER_ROUND * (round_number - 1) + BIAS
    return 1.0 / (1.0 + math.exp(-score))
