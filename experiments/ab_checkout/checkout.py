"""One simulated checkout session: does this user buy?"""

from __future__ import annotations

from typing import Any

from crystallize_tui import pipeline_step


@pipeline_step()
def session(config: dict[str, Any], ctx: Any) -> bool:
    """Simulate one user's visit and record ``converted`` (1 if they bought, else 0)."""
    # One draw per user: replicate k is the same user in every arm (same seed), so a
    # higher conversion rate converts exactly the users it should and no others.
    converted = ctx.rng.random() < config["conversion_rate"]
    ctx.metrics.add("converted", int(converted))
    return converted
