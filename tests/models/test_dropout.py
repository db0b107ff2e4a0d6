"""Dropout from scratch: equal to nnx.Dropout given the same key; right keep rate and scale."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxdl import models
from jaxdl.models import dropout


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_same_key_same_output_as_nnx_dropout(rate):
    x = jax.random.normal(jax.random.key(0), (64, 33))
    key = jax.random.key(1)
    ours = dropout.inverted_dropout(x, rate, key)
    theirs = nnx.Dropout(rate)(x, deterministic=False, rngs=key)
    chex.assert_trees_all_equal(ours, theirs)


def test_keep_rate_and_scaling_are_right_statistically():
    x = jnp.ones((1000, 1000))
    y = dropout.inverted_dropout(x, 0.3, jax.random.key(0))
    kept = np.asarray(y != 0)
    # 1e6 Bernoulli(0.7) draws: the kept fraction is 0.7 within ~0.0005 (1 sd); allow 5 sd.
    assert abs(kept.mean() - 0.7) < 5 * np.sqrt(0.7 * 0.3 / kept.size)
    np.testing.assert_allclose(np.unique(np.asarray(y)[kept]), [1 / 0.7], rtol=1e-6)
    # Expectation is preserved: the mean over units and over keys stays at the input.
    z = jax.random.normal(jax.random.key(1), (8,))
    keys = jax.random.split(jax.random.key(2), 20000)
    means = jnp.mean(jax.vmap(lambda k: dropout.inverted_dropout(z, 0.5, k))(keys), 0)
    np.testing.assert_allclose(means, z, atol=0.05)


def test_eval_is_the_identity_and_bad_rates_are_refused():
    x = jnp.arange(6.0)
    chex.assert_trees_all_equal(dropout.Dropout(0.5)(x, deterministic=True), x)
    with pytest.raises(ValueError, match=r"dropout rate must be in \[0, 1\), got 1.0"):
        dropout.Dropout(1.0)
    with pytest.raises(ValueError, match="unknown dropout 'gaussian'; valid: nnx, scratch"):
        dropout.make(0.5, "gaussian")


@pytest.mark.parametrize("name, hparams", [("mlp", {"hidden": (64, 32), "dropout": 0.4}), ("cnn", {"dropout": 0.5})])
def test_models_with_scratch_dropout_equal_nnx_dropout(name, hparams):
    nnx_model = models.make(name, (28, 28, 1), 10, dropout_impl="nnx", **hparams)
    scratch = models.make(name, (28, 28, 1), 10, dropout_impl="scratch", **hparams)
    params = nnx_model.init(jax.random.key(0))
    x = jax.random.uniform(jax.random.key(1), (4, 28, 28, 1))
    key = jax.random.key(2)
    chex.assert_trees_all_equal(scratch.apply(params, x, key=key, train=True),
                                nnx_model.apply(params, x, key=key, train=True))
    chex.assert_trees_all_equal(scratch.apply(params, x), nnx_model.apply(params, x))


@pytest.mark.parametrize("impl", ["nnx", "scratch"])
def test_a_network_with_dropout_evaluates_as_the_same_network_without_it(impl):
    """Inverted dropout needs no rescaling at eval: train=False is the plain network."""
    with_dropout = models.make("mlp", (28, 28, 1), 10, hidden=(64,), dropout=0.5, dropout_impl=impl)
    without = models.make("mlp", (28, 28, 1), 10, hidden=(64,), dropout=0.0)
    params = with_dropout.init(jax.random.key(0))
    x = jax.random.uniform(jax.random.key(1), (4, 28, 28, 1))
    chex.assert_trees_all_equal(with_dropout.apply(params, x), without.apply(params, x))
    # In training the same key gives the same mask, a different key another one.
    a, b = (with_dropout.apply(params, x, key=jax.random.key(k), train=True) for k in (2, 3))
    chex.assert_trees_all_equal(a, with_dropout.apply(params, x, key=jax.random.key(2), train=True))
    assert not np.allclose(a, b)
