"""Embedding lookups: a one-hot matmul equals the table lookup, in values and gradients."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.models import embedding


def test_one_hot_matmul_equals_lookup_values_and_gradients(variant):
    table_VxD = jax.random.normal(jax.random.key(0), (11, 4))
    ids_B = jnp.array([3, 0, 10, 3, 7])  # a repeated id: its gradient rows must add up
    w_BxD = jax.random.normal(jax.random.key(1), (5, 4))

    def loss(embed):
        return variant(lambda t: jnp.sum(jnp.tanh(embed(t, ids_B)) * w_BxD))

    chex.assert_trees_all_close(embedding.one_hot_embed(table_VxD, ids_B),
                                embedding.lookup_embed(table_VxD, ids_B), rtol=1e-6)
    g_one_hot = jax.grad(loss(embedding.one_hot_embed))(table_VxD)
    g_lookup = jax.grad(loss(embedding.lookup_embed))(table_VxD)
    chex.assert_trees_all_close(g_one_hot, g_lookup, rtol=1e-5, atol=1e-6)
    # Only the looked-up rows get gradient.
    assert np.all(np.asarray(g_lookup)[[1, 2, 4, 5, 6, 8, 9]] == 0)
    assert np.all(np.abs(np.asarray(g_lookup)[[0, 3, 7, 10]]).sum(1) > 0)
