"""Inverted dropout written out, for study beside `nnx.Dropout`.

Training keeps each unit with probability 1 - rate and scales the kept ones by
1 / (1 - rate), so a unit's expected value is unchanged and evaluation is the
identity. Given the same key it draws the same mask as `nnx.Dropout` (tested).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

IMPLS = ("nnx", "scratch")


def inverted_dropout(x: jax.Array, rate: float, key: jax.Array) -> jax.Array:
    keep = 1.0 - rate
    mask = jax.random.bernoulli(key, p=keep, shape=x.shape)
    return jnp.where(mask, x / keep, jnp.zeros_like(x))


class Dropout(nnx.Module):
    """`inverted_dropout` with `nnx.Dropout`'s call signature, so models can swap them."""

    def __init__(self, rate: float):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = rate

    def __call__(self, x: jax.Array, *, deterministic: bool, rngs: nnx.Rngs | jax.Array | None = None):
        if deterministic or self.rate == 0.0:
            return x
        if rngs is None:
            raise ValueError("dropout in training mode needs rngs (a key)")
        key = rngs.dropout() if isinstance(rngs, nnx.Rngs) else rngs
        return inverted_dropout(x, self.rate, key)


def make(rate: float, impl: str) -> nnx.Module:
    if impl not in IMPLS:
        raise ValueError(f"unknown dropout '{impl}'; valid: {', '.join(IMPLS)}")
    return nnx.Dropout(rate) if impl == "nnx" else Dropout(rate)
