"""Embeddings: a one-hot times a matrix, the same thing as a table lookup, and entity embeddings.

An embedding of a categorical id is row `id` of a (V, D) table. Written as the
matrix product `one_hot(ids) @ table` it is an ordinary linear layer on a
one-hot input (the "homebrew" embedding); `table[ids]` computes the same rows
without the V-wide one-hot, and its gradient only touches the rows in the
batch. `tests/models/test_embedding.py` checks both give the same values and gradients.

Ids must lie in [0, V): out-of-range ids are a caller's bug (a one-hot of one is
all zeros, a lookup clamps), so data code remaps and checks ids before they
get here (see `jaxdl.data.movielens`, `jaxdl.tasks.regression.predict_ratings`).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

IMPLEMENTATIONS = ("lookup", "one_hot")


def one_hot_embed(table_VxD: jax.Array, ids_B: jax.Array) -> jax.Array:
    """The homebrew embedding: one-hot rows times the table, (B, V) @ (V, D) -> (B, D)."""
    return jax.nn.one_hot(ids_B, table_VxD.shape[0], dtype=table_VxD.dtype) @ table_VxD


def lookup_embed(table_VxD: jax.Array, ids_B: jax.Array) -> jax.Array:
    """Row gather: table[ids] -> (B, D)."""
    return jnp.take(table_VxD, ids_B, axis=0)


def embed_fn(impl: str):
    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"unknown embedding implementation {impl!r}; valid: {', '.join(IMPLEMENTATIONS)}")
    return lookup_embed if impl == "lookup" else one_hot_embed


class Embed(nnx.Module):
    """A (num, features) table of N(init_mean, init_scale^2) entries, looked up one of two ways."""

    def __init__(self, num: int, features: int, *, init_scale: float = 0.01, init_mean: float = 0.0,
                 impl: str = "lookup", rngs: nnx.Rngs):
        if num < 1 or features < 1:
            raise ValueError(f"an embedding needs num >= 1 and features >= 1, got {num}, {features}")
        self.embed = embed_fn(impl)
        self.table = nnx.Param(init_mean + init_scale * jax.random.normal(rngs.params(), (num, features)))

    def __call__(self, ids_B: jax.Array) -> jax.Array:
        return self.embed(self.table[...], ids_B)


def default_dim(cardinality: int) -> int:
    """fast.ai's rule of thumb for entity embedding widths: half the levels, at most 50."""
    return min(50, (cardinality + 1) // 2)


class EntityEmbeddings(nnx.Module):
    """One learned embedding per categorical column (Guo & Berkhahn 2016), concatenated.

    `cardinalities[c]` levels in column c, embedded in `dims[c]` features
    (default: `default_dim`). Input: int codes (B, C); output: (B, sum(dims)).
    """

    def __init__(self, cardinalities: Sequence[int], dims: Sequence[int] = (), *, init_scale: float = 0.01,
                 impl: str = "lookup", rngs: nnx.Rngs):
        dims = tuple(dims) or tuple(default_dim(c) for c in cardinalities)
        if len(dims) != len(cardinalities):
            raise ValueError(f"{len(cardinalities)} categorical columns but {len(dims)} embedding widths")
        self.columns = nnx.List(
            Embed(c, d, init_scale=init_scale, impl=impl, rngs=rngs) for c, d in zip(cardinalities, dims))
        self.out_features = sum(dims)

    def __call__(self, codes_BxC: jax.Array) -> jax.Array:
        if codes_BxC.shape[1] != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} categorical columns, got {codes_BxC.shape[1]}")
        return jnp.concatenate([e(codes_BxC[:, c]) for c, e in enumerate(self.columns)], axis=-1)
