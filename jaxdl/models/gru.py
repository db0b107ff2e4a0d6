"""GRU written from matrix algebra, run over time with `lax.scan`.

The equations and parameter layout are Flax's `nnx.GRUCell` (gate order r, z, n;
no bias on the recurrent side):

    [x_r, x_z, x_n] = x W_x + b          [h_r, h_z, h_n] = h W_h
    r = sigmoid(x_r + h_r)   z = sigmoid(x_z + h_z)   n = tanh(x_n + r * h_n)
    h' = (1 - z) * n + z * h

so `params_from_flax`/`params_to_flax` are plain renamings and the tests can
check equality. The input projection of a whole sequence is one matmul hoisted
out of the scan; each step is then one fused (H, 3H) matmul for all three gates.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.nn import initializers as jinit

from jaxdl.models.matmul import matmul_last

Params = dict[str, jax.Array]


def init(key: jax.Array, in_features: int, hidden: int) -> Params:
    """Flax GRUCell's default initialisers: lecun_normal input, orthogonal recurrent, zero bias."""
    k_x, k_h = jax.random.split(key)
    return {
        "W_x": jinit.lecun_normal()(k_x, (in_features, 3 * hidden)),
        "W_h": jinit.orthogonal()(k_h, (hidden, 3 * hidden)),
        "b": jnp.zeros((3 * hidden,)),
    }


def project_inputs(params: Params, x_BxTxD: jax.Array) -> jax.Array:
    """x W_x + b for every step at once: (B, T, 3H)."""
    return add_bias(matmul_last(x_BxTxD, params["W_x"]), params["b"])


def cell(params: Params, h_BxH: jax.Array, xw_Bx3H: jax.Array) -> jax.Array:
    """One step from the projected input `xw = x W_x + b`; returns the new state."""
    hw_Bx3H = h_BxH @ params["W_h"]  # the one recurrent matmul, all gates fused
    x_r, x_z, x_n = jnp.split(xw_Bx3H, 3, axis=-1)
    h_r, h_z, h_n = jnp.split(hw_Bx3H, 3, axis=-1)
    r = jax.nn.sigmoid(x_r + h_r)
    z = jax.nn.sigmoid(x_z + h_z)
    n = jnp.tanh(x_n + r * h_n)
    return (1.0 - z) * n + z * h_BxH


def step(params: Params, h_BxH: jax.Array, x_BxD: jax.Array) -> jax.Array:
    """One step from the raw input (the same call signature as a Flax cell, without the output)."""
    return cell(params, h_BxH, add_bias(x_BxD @ params["W_x"], params["b"]))


def scan(
    params: Params, x_BxTxD: jax.Array, h0_BxH: jax.Array, mask_BxT: jax.Array | None = None,
    *, reverse: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Runs the GRU over time: (final state (B, H), every state (B, T, H)).

    Where `mask_BxT` is 0 (padding) the state is carried unchanged, so the final
    state is the one after each row's last real token, in either direction.
    """
    xw_TxBx3H = jnp.swapaxes(project_inputs(params, x_BxTxD), 0, 1)
    if mask_BxT is None:
        mask_TxBx1 = jnp.ones(xw_TxBx3H.shape[:2] + (1,), h0_BxH.dtype)
    else:
        mask_TxBx1 = jnp.swapaxes(mask_BxT, 0, 1)[..., None].astype(h0_BxH.dtype)

    def body(h_BxH, inputs):
        xw_Bx3H, m_Bx1 = inputs
        h_new = cell(params, h_BxH, xw_Bx3H)
        h_BxH = m_Bx1 * h_new + (1.0 - m_Bx1) * h_BxH
        return h_BxH, h_BxH

    h_last, hs_TxBxH = jax.lax.scan(body, h0_BxH, (xw_TxBx3H, mask_TxBx1), reverse=reverse)
    return h_last, jnp.swapaxes(hs_TxBxH, 0, 1)


def add_bias(y: jax.Array, b: jax.Array) -> jax.Array:
    """y + b over y's last axis, broadcasting explicitly (jaxdl runs with rank promotion off)."""
    return y + b.reshape((1,) * (y.ndim - 1) + b.shape)


def params_to_flax(params: Params) -> dict:
    """The pure dict `nnx.GRUCell`'s state takes (`nnx.replace_by_pure_dict`)."""
    return {"dense_i": {"kernel": params["W_x"], "bias": params["b"]}, "dense_h": {"kernel": params["W_h"]}}


def params_from_flax(flax_params: dict) -> Params:
    return {
        "W_x": flax_params["dense_i"]["kernel"],
        "W_h": flax_params["dense_h"]["kernel"],
        "b": flax_params["dense_i"]["bias"],
    }
