"""Positional encodings: rotary embeddings depend on relative positions only."""

import jax
import jax.numpy as jnp
import pytest

from jaxdl.models import positional


def test_rotary_relative_positions():
    # <rot(q, m), rot(k, n)> depends on m - n only.
    q = jax.random.normal(jax.random.key(0), (1, 1, 1, 8))
    k = jax.random.normal(jax.random.key(1), (1, 1, 1, 8))

    def dot(m, n):
        return float(jnp.sum(positional.rotary(q, jnp.array([m])) * positional.rotary(k, jnp.array([n]))))

    assert dot(3, 1) == pytest.approx(dot(7, 5), rel=1e-5)
    assert dot(3, 1) != pytest.approx(dot(3, 2), rel=1e-3)
