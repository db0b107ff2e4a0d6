"""Named PRNG streams from one seed: the only source of randomness in jaxdl.

Each stream is `fold_in(key(seed), crc32(name))`, so adding a stream never
changes the others and the same (seed, name) is the same key on any run.
"""

from __future__ import annotations

import zlib

import jax

STREAMS = ("init", "data", "dropout", "eval")


def stream(root: jax.Array, name: str) -> jax.Array:
    return jax.random.fold_in(root, zlib.crc32(name.encode()))


def streams(seed: int | jax.Array) -> dict[str, jax.Array]:
    """{"init", "data", "dropout", "eval"} keys for `seed` (vmappable)."""
    root = jax.random.key(seed)
    return {name: stream(root, name) for name in STREAMS}
