"""Seed derivation: one base seed gives every replicate its own, identical across conditions."""

from __future__ import annotations

import hashlib

from .errors import ConfigError

# Fixed on purpose: two runs of an experiment that names no seed give identical metrics.
DEFAULT_SEED = 0

_MASK_63 = (1 << 63) - 1
# The store keeps the base seed in a signed 64-bit column; no generator needs more.
SEED_RANGE = range(-(2**63), 2**63)


def check_seed(seed: int) -> int:
    """``seed`` if it fits a signed 64-bit integer, else a ConfigError naming it."""
    if seed not in SEED_RANGE:
        raise ConfigError(
            f"seed {seed}: out of range; a base seed must fit in 64 bits "
            f"({SEED_RANGE.start} to {SEED_RANGE.stop - 1})"
        )
    return seed


def derive_seed(base_seed: int, replicate: int, stream: int = 0) -> int:
    """Seed of replicate ``replicate`` under ``base_seed`` (in seed stream ``stream``).

    The first 8 bytes of BLAKE2b over ``"crystallize:<base_seed>:<replicate>"``, read as a
    big-endian unsigned integer and cut to 63 bits (so it fits a signed 64-bit column and
    torch accepts it). The condition is deliberately not part of the input: replicate k
    draws the same random numbers in every condition, so conditions can be paired.
    Stream 0 is every ordinary run's; a confirmatory run draws from stream s >= 1, hashed
    from ``"crystallize:<base_seed>:confirm<s>:<replicate>"`` (see core/confirm.py).
    """
    if stream:
        data = f"crystallize:{int(base_seed)}:confirm{int(stream)}:{int(replicate)}".encode()
        return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") & _MASK_63
    global _prefix
    base = int(base_seed)
    cached = _prefix
    if cached is None or cached[0] != base:
        cached = _prefix = (base, hashlib.blake2b(f"crystallize:{base}:".encode(), digest_size=8))
    h = cached[1].copy()
    h.update(str(int(replicate)).encode())
    return int.from_bytes(h.digest(), "big") & _MASK_63


# The hash state after "crystallize:<base_seed>:" for the last base seed used: every
# replicate's seed starts from a copy of it (a quarter cheaper than hashing from scratch).
_prefix: tuple | None = None  # (base seed, hash state)


def derive_seeds(base_seed: int, replicates: int, stream: int = 0) -> list[int]:
    """Seeds of replicates ``0 .. replicates-1`` (computed once per run, shared by conditions)."""
    return [derive_seed(base_seed, k, stream) for k in range(replicates)]
