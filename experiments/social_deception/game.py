"""A simulated Mafia-style game (no network, no LLM) and its pipeline step ``run_game``."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from profiles import Profile, profile, spot_chance

from crystallize_tui import pipeline_step

MAFIA, TOWN = "mafia", "town"


@dataclass
class GameState:
    """Who is who, who is still alive, and how the game ended."""

    roles: dict[str, str]
    alive: list[str]
    round: int = 0
    winner: str | None = None
    eliminated: list[str] = field(default_factory=list)

    def living(self, role: str) -> list[str]:
        return [p for p in self.alive if self.roles[p] == role]

    def check_winner(self) -> str | None:
        if not self.living(MAFIA):
            self.winner = TOWN
        elif len(self.living(MAFIA)) >= len(self.living(TOWN)):
            # Mafia can no longer be outvoted: the standard end condition.
            self.winner = MAFIA
        return self.winner

    def remove(self, player: str) -> None:
        self.alive.remove(player)
        self.eliminated.append(player)


def new_game(players: int, mafia: int, rng: Any) -> GameState:
    """Seat ``players`` players and secretly pick ``mafia`` of them as mafia."""
    if not 1 <= mafia < players / 2:
        raise ValueError(f"need 1 <= mafia < players/2, got mafia={mafia}, players={players}")
    names = [f"p{i}" for i in range(1, players + 1)]
    bad = set(rng.sample(names, mafia))
    return GameState({n: MAFIA if n in bad else TOWN for n in names}, list(names))


def pick(rng: Any, items: list[str]) -> str:
    """One of ``items``, using exactly one draw whatever the list's length.

    Condition-independent draw counts keep replicate k's games in step across conditions
    (common random numbers), so conditions differ by their skills, not by luck.
    """
    return items[int(rng.random() * len(items))]


def _turn(ctx: Any, delay: float, **data: Any) -> None:
    # Every turn is a cancellation point, and the delay is slept in slices, so a slowed
    # game (turn_delay) stops promptly when the run is cancelled.
    ctx.check_cancelled()
    deadline = time.monotonic() + delay
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))
        ctx.check_cancelled()
    ctx.emit("turn", **data)


def night(state: GameState, ctx: Any, delay: float) -> str:
    """The mafia kill one town player."""
    killer = pick(ctx.rng, state.living(MAFIA))
    victim = pick(ctx.rng, state.living(TOWN))
    _turn(ctx, delay, round=state.round, phase="night", actor=killer, action="kill", target=victim)
    state.remove(victim)
    return victim


def day(state: GameState, ctx: Any, town: Profile, mafia: Profile, delay: float) -> tuple[str, int]:
    """Everyone alive votes; the player with the most votes is out. Returns (player, votes)."""
    rng = ctx.rng
    suspects = state.living(MAFIA)
    # The mafia agree on one scapegoat and all push the same story.
    scapegoat = pick(rng, state.living(TOWN))
    spot = spot_chance(town, mafia, state.round)
    votes: Counter[str] = Counter()
    for voter in list(state.alive):
        # Three draws whether or not they are used, to keep conditions in step (see pick).
        insight, sway, choice = rng.random(), rng.random(), rng.random()
        if state.roles[voter] == MAFIA:
            target = scapegoat
        elif insight < spot:
            target = suspects[int(choice * len(suspects))]
        elif sway < mafia.deception and scapegoat != voter:
            target = scapegoat  # persuaded by the mafia's story
        else:
            others = [p for p in state.living(TOWN) if p != voter]
            target = others[int(choice * len(others))]
        votes[target] += 1
        _turn(
            ctx, delay, round=state.round, phase="day", actor=voter, action="accuse", target=target
        )
    top = max(votes.values())
    # Ties are settled by lot, in seat order so the draw is reproducible.
    out = pick(rng, [p for p in state.alive if votes[p] == top])
    state.remove(out)
    return out, top


def play_game(config: dict[str, Any], ctx: Any) -> GameState:
    """Play one game to the end, printing one line of narrative per round."""
    mafia_model, town_model = config["models"]
    mafia, town = profile(mafia_model), profile(town_model)
    players = int(config.get("players", 6))
    delay = float(config.get("turn_delay", 0))
    state = new_game(players, int(config.get("mafia", 1 if players < 8 else 2)), ctx.rng)
    print(f"{players} players; mafia played by {mafia_model}, town by {town_model}")
    while state.winner is None:
        state.round += 1
        victim = night(state, ctx, delay)
        line = f"Round {state.round}: night, {victim} was killed"
        if state.check_winner() is None:
            out, top = day(state, ctx, town, mafia, delay)
            votes = "1 vote" if top == 1 else f"{top} votes"
            line += f"; day, {out} ({state.roles[out]}) voted out with {votes}"
            state.check_winner()
        print(line)
    print(f"The {state.winner} wins after {state.round} round(s).")
    return state


@pipeline_step()
def run_game(config: dict[str, Any], ctx: Any) -> GameState:
    """Play one game; record whether the town won, how long it took, and mafia left."""
    state = play_game(config, ctx)
    ctx.metrics.add("win", 1 if state.winner == TOWN else 0)
    ctx.metrics.add("rounds", state.round)
    ctx.metrics.add("mafia_survivors", len(state.living(MAFIA)))
    return state
