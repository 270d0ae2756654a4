"""Chunk sizing: how many replicates a backend hands a worker at once, from measured durations.

A task sent to a worker costs a round trip (pickling, a pipe or the network, waking the
worker, a reply); a replicate of a few microseconds must not pay one each. So replicates
go out in chunks sized to hold about ``target`` seconds of work, measured as the run goes
(the first chunks hold one replicate: nothing is known yet). Three bounds keep chunking
from hurting: a chunk grows at most twofold from one to the next (a noisy first figure
cannot jump to a huge chunk); it never takes more than 1/(``share`` x workers) of what is
left, so the last replicates still spread over every worker; and a worker gives back the
unstarted rest of a chunk that has run ``GIVE_BACK_SECONDS`` (replicates slower than
measured). Cancel does not depend on the size: workers check it before every replicate.

With a stop rule (``cap``: the replicates of one round, RunPlan.look_every) no chunk holds
more than a round: the parent feeds a worker only once its chunks' results are consumed, so
what a worker can run past the stopping look (finished, not yet read) is at most PREFETCH
rounds, where 20 ms chunks would let it run hundreds. The parent, which feeds every result to
the rule, is slower than the workers on such runs anyway, so the extra round trips cost little.

Used by the local pool (backends/pool.py); the same sizer serves any backend that sends
replicates in batches: ``sizer.size(remaining)`` before sending, ``sizer.observe(seconds,
count)`` when a chunk's figures come back.
"""

from __future__ import annotations

import math

TARGET_SECONDS = 0.02  # work per chunk: a round trip (~0.1 ms) is < 1% of it, events stay live
MAX_SIZE = 4096  # replicates per chunk at most (bounds the message and a give-back)
GIVE_BACK_SECONDS = 0.25  # a chunk running this long returns its unstarted replicates
SMOOTHING = 0.5  # weight of the newest chunk in the running per-replicate figure


class ChunkSizer:
    """Chunk sizes for ``workers`` workers. ``fixed`` (a whole number >= 1) turns the
    measuring off: chunks hold that many (``fixed=1``: one replicate per task), fewer only
    towards the end, where the last replicates are spread over every worker."""

    def __init__(self, workers: int, *, target: float = TARGET_SECONDS, max_size: int = MAX_SIZE,
                 share: int = 2, fixed: int | None = None, cap: int | None = None) -> None:
        self.workers = max(1, workers)
        self.target = target
        self.max_size = max_size
        self.share = share
        self.fixed = fixed
        self.cap = cap  # at most this many per chunk, whatever else says (a stop rule's round)
        self.per_replicate: float | None = None  # seconds, smoothed over the chunks seen
        self._last = 0  # the size handed out last

    def observe(self, seconds: float, count: int) -> None:
        """A chunk came back: ``count`` replicates ran in ``seconds`` of the worker's time
        (its whole loop, not just the steps, so the engine's own cost per replicate counts)."""
        if count <= 0 or seconds < 0:
            return
        each = seconds / count
        if self.per_replicate is None:
            self.per_replicate = each
        else:
            self.per_replicate += SMOOTHING * (each - self.per_replicate)

    def size(self, remaining: int) -> int:
        """How many of the ``remaining`` replicates to put in the next chunk (>= 1)."""
        if self.fixed is not None:
            want = self.fixed
        elif self.per_replicate is None:
            want = 1
        else:
            want = int(self.target / max(self.per_replicate, 1e-9))
            want = min(want, 2 * self._last if self._last else 1, self.max_size)
        spread = math.ceil(remaining / (self.share * self.workers))
        if self.cap:
            want = min(want, self.cap)
        size = max(1, min(want, spread))
        self._last = size
        return size


__all__ = ["GIVE_BACK_SECONDS", "MAX_SIZE", "TARGET_SECONDS", "ChunkSizer"]
