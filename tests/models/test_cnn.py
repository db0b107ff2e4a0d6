"""The CNN: the Keras architecture; its max pool and im2col convolution equal XLA's."""

import chex
import jax
import jax.numpy as jnp
import pytest

from jaxdl.models import cnn

IMAGE = (28, 28, 1)


def test_cnn_is_the_keras_architecture():
    params = cnn.make(IMAGE, 10).init(jax.random.key(0))
    shapes = jax.tree.map(jnp.shape, params)
    assert shapes["convs"][0]["kernel"] == (3, 3, 1, 32)
    assert shapes["convs"][1]["kernel"] == (3, 3, 32, 64)
    assert shapes["head"]["kernel"] == (5 * 5 * 64, 10)  # 28 -conv-> 26 -pool-> 13 -conv-> 11 -pool-> 5


@pytest.mark.parametrize("hw", [(26, 26), (11, 9)])  # even and odd (dropped edge) sizes
def test_max_pool_2x2_equals_nnx_max_pool(hw):
    from flax import nnx

    x = jax.random.normal(jax.random.key(0), (2, *hw, 3))
    ref = nnx.max_pool(x, window_shape=(2, 2), strides=(2, 2))
    chex.assert_trees_all_equal(cnn.max_pool_2x2(x), ref)
    # Distinct values (no ties): the gradient goes to each window's maximum, as reduce_window's.
    chex.assert_trees_all_equal(jax.grad(lambda x: (cnn.max_pool_2x2(x) ** 2).sum())(x),
                                jax.grad(lambda x: (nnx.max_pool(x, (2, 2), strides=(2, 2)) ** 2).sum())(x))


def test_im2col_conv_equals_xla_conv():
    xla = cnn.make((28, 28, 1), 10, conv="xla", dropout=0.0)
    im2col = cnn.make((28, 28, 1), 10, conv="im2col", dropout=0.0)
    params = xla.init(jax.random.key(0))
    chex.assert_trees_all_equal_shapes(params, im2col.init(jax.random.key(0)))
    x = jax.random.uniform(jax.random.key(1), (4, 28, 28, 1))
    chex.assert_trees_all_close(im2col.apply(params, x), xla.apply(params, x), rtol=1e-4, atol=1e-5)

    def grads(model):
        return jax.grad(lambda p: model.apply(p, x).sum())(params)

    chex.assert_trees_all_close(grads(im2col), grads(xla), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])  # gelu: not monotone, pooled after
@pytest.mark.parametrize("hw", [(28, 28), (13, 12)])  # conv outputs 26x26 (even), 11x10 (odd edge)
def test_conv_act_pool_equals_conv_then_act_then_pool(activation, hw):
    from jaxdl.models import inits

    act = inits.activation(activation)
    x = jax.random.normal(jax.random.key(0), (2, *hw, 3))
    kernel = jax.random.normal(jax.random.key(1), (3, 3, 3, 5))
    bias = jax.random.normal(jax.random.key(2), (5,))

    def fused(x, kernel, bias):
        return cnn.im2col_conv_act_pool(x, kernel, bias, act, activation in cnn.MONOTONE)

    def reference(x, kernel, bias):
        return cnn.max_pool_2x2(act(cnn.im2col_conv(x, kernel, bias)))

    chex.assert_trees_all_close(fused(x, kernel, bias), reference(x, kernel, bias), rtol=1e-6, atol=1e-6)

    def grads(fn):
        return jax.grad(lambda *a: (fn(*a) ** 2).sum(), argnums=(0, 1, 2))(x, kernel, bias)

    chex.assert_trees_all_close(grads(fused), grads(reference), rtol=1e-5, atol=1e-5)
