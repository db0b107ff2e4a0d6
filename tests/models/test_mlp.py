"""The MLP: equal to its matrix algebra; keyed dropout, off in eval; the named hidden activation."""

import chex
import jax
import numpy as np
import pytest

from jaxdl.models import mlp

IMAGE = (28, 28, 1)


def _images(batch, seed=0):
    return jax.random.uniform(jax.random.key(seed), (batch, *IMAGE))


def test_mlp_matches_matrix_algebra():
    model = mlp.make(IMAGE, 10, hidden=(30,), activation="sigmoid")
    params = model.init(jax.random.key(0))
    x = _images(4)
    l0, l1 = params["layers"][0], params["layers"][1]
    h = jax.nn.sigmoid(x.reshape(4, -1) @ l0["kernel"] + l0["bias"][None])
    chex.assert_trees_all_close(model.apply(params, x), h @ l1["kernel"] + l1["bias"][None], rtol=1e-5, atol=1e-5)


def test_dropout_is_keyed_and_off_in_eval():
    model = mlp.make(IMAGE, 10, hidden=(64,), dropout=0.5)
    params, x = model.init(jax.random.key(0)), _images(8)
    a = model.apply(params, x, key=jax.random.key(1), train=True)
    chex.assert_trees_all_equal(a, model.apply(params, x, key=jax.random.key(1), train=True))
    assert not np.allclose(a, model.apply(params, x, key=jax.random.key(2), train=True))
    chex.assert_trees_all_equal(model.apply(params, x), model.apply(params, x, key=jax.random.key(2)))
    with pytest.raises(ValueError, match="needs a `key`"):
        model.apply(params, x, train=True)


@pytest.mark.parametrize("name, fn", [("gelu", jax.nn.gelu), ("silu", jax.nn.silu)])
def test_mlp_hidden_activation_is_the_named_one(name, fn):
    model = mlp.make(IMAGE, 10, hidden=(8,), activation=name)
    params = model.init(jax.random.key(0))
    x_BxHxWxC = jax.random.normal(jax.random.key(1), (2, *IMAGE))
    layers = params["layers"]
    hidden = fn(x_BxHxWxC.reshape(2, -1) @ layers[0]["kernel"] + layers[0]["bias"][None])
    expected = hidden @ layers[1]["kernel"] + layers[1]["bias"][None]
    chex.assert_trees_all_close(model.apply(params, x_BxHxWxC), expected, rtol=1e-5, atol=1e-6)
