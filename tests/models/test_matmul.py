"""`matmul_last` == the einsum it replaces, values and both gradients; its weight gradient on
XLA:CPU is one plain product (no transposed copy of the output gradient)."""

import re

import chex
import jax
import jax.numpy as jnp
import pytest

from jaxdl.models.matmul import matmul_last


@pytest.mark.parametrize("lead", [(), (3,), (2, 3), (2, 2, 3)])
def test_values_and_gradients_equal_the_einsum(lead):
    kx, kw, kc = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(kx, (*lead, 7))
    w_DxF = jax.random.normal(kw, (7, 5))
    cotangent = jax.random.normal(kc, (*lead, 5))

    def objective(mm):
        return lambda x, w: jnp.sum(mm(x, w) * cotangent)

    y = matmul_last(x, w_DxF)
    chex.assert_shape(y, (*lead, 5))
    chex.assert_trees_all_close(y, jnp.einsum("...d,df->...f", x, w_DxF), rtol=1e-6, atol=1e-6)
    ours = jax.grad(objective(matmul_last), argnums=(0, 1))(x, w_DxF)
    ref = jax.grad(objective(lambda x, w: jnp.einsum("...d,df->...f", x, w)), argnums=(0, 1))(x, w_DxF)
    chex.assert_trees_all_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_forward_mode_differentiates_it():
    # Plain ops, no custom_vjp: jvp (and so jacfwd, hessian) still work through the models.
    x, w_DxF = jnp.ones((2, 3, 4)), jnp.ones((4, 6))
    _, tangent = jax.jvp(matmul_last, (x, w_DxF), (jnp.ones_like(x), jnp.zeros_like(w_DxF)))
    chex.assert_trees_all_close(tangent, jnp.full((2, 3, 6), 4.0))


def test_accumulates_in_the_preferred_type():
    y = matmul_last(jnp.ones((2, 3, 4), jnp.bfloat16), jnp.ones((4, 6), jnp.bfloat16),
                    preferred_element_type=jnp.float32)
    assert y.dtype == jnp.float32


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="checks XLA:CPU's lowering")
def test_weight_gradient_is_one_plain_product_on_cpu():
    x_BxTxD, w_DxF = jnp.ones((4, 32, 48)), jnp.ones((48, 64))
    grad = jax.jit(jax.grad(lambda w, x: jnp.sum(jnp.tanh(matmul_last(jnp.sin(x), w)))))
    hlo = grad.lower(w_DxF, x_BxTxD).compile().as_text()
    dots = re.findall(r"f32\[48,64\]\S* dot\(.*?lhs_contracting_dims=\{(\d)\}, rhs_contracting_dims=\{(\d)\}", hlo)
    # (0, 0): x^T dy straight from both row-major operands; (0, 1) would mean dy was transposed first.
    assert dots == [("0", "0")], hlo
