"""LayerNorm's closed-form backward == autodiff of the textbook formula; GELU's written-out
derivative == autodiff of jax.nn.gelu."""

import chex
import jax
import jax.numpy as jnp
import pytest

from jaxdl.models import layers


def _textbook_layer_norm(p, x, eps=1e-5):
    x32 = x.astype(jnp.float32)
    y = (x32 - x32.mean(-1, keepdims=True)) / jnp.sqrt(x32.var(-1, keepdims=True) + eps)
    return (y * p["scale"].astype(jnp.float32)[None, None] + p["bias"].astype(jnp.float32)[None, None]).astype(x.dtype)


@pytest.mark.parametrize("dtype,tol", [(jnp.float32, 1e-5), (jnp.bfloat16, 2e-2)])
def test_layer_norm_and_its_gradients_equal_autodiff_of_the_formula(dtype, tol):
    kx, ks, kb, kw = jax.random.split(jax.random.key(0), 4)
    x = (3.0 + 2.0 * jax.random.normal(kx, (2, 5, 16))).astype(dtype)
    p = {"scale": (1.0 + jax.random.normal(ks, (16,))).astype(dtype),
         "bias": jax.random.normal(kb, (16,)).astype(dtype)}
    w_out = jax.random.normal(kw, x.shape)

    def objective(norm):
        return lambda p, x: jnp.sum(norm(p, x).astype(jnp.float32) * w_out)

    chex.assert_trees_all_close(layers.layer_norm(p, x), _textbook_layer_norm(p, x), rtol=tol, atol=tol)
    ours = jax.grad(objective(layers.layer_norm), argnums=(0, 1))(p, x)
    ref = jax.grad(objective(_textbook_layer_norm), argnums=(0, 1))(p, x)
    chex.assert_trees_all_equal_dtypes(ours, ref)
    chex.assert_trees_all_close(ours, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype,tol", [(jnp.float32, 1e-5), (jnp.bfloat16, 2e-2)])
def test_gelu_is_jax_gelu_and_its_gradient_autodiff_of_it(dtype, tol):
    x = (4.0 * jax.random.normal(jax.random.key(0), (3, 5, 64))).astype(dtype)
    chex.assert_trees_all_equal(layers.gelu(x), jax.nn.gelu(x, approximate=True))
    ours = jax.grad(lambda x: jnp.sum(layers.gelu(x)).astype(jnp.float32))(x)
    # The reference derivative in float32: bfloat16 autodiff of the formula loses the tails.
    ref = jax.grad(lambda x: jnp.sum(jax.nn.gelu(x, approximate=True)))(x.astype(jnp.float32)).astype(dtype)
    chex.assert_trees_all_equal_dtypes(ours, ref)
    chex.assert_trees_all_close(ours, ref, rtol=tol, atol=tol)
    # A custom_jvp: forward mode differentiates it too.
    _, tangent = jax.jvp(layers.gelu, (x,), (jnp.ones_like(x),))
    chex.assert_trees_all_close(tangent, ref, rtol=tol, atol=tol)
