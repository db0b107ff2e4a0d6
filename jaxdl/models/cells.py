"""Recurrent cells: the elementwise part of a recurrence, z_t -> the new carry.

A cell gets z = x_t U + b + h_{t-1} W (one fused matmul, computed by `jaxdl.models.rnn`) and the
previous carry, a tuple whose last element is h_t (RNN: (h,); LSTM: (c, h)). The LSTM's
gates are fused into z's four H-wide blocks i, f, g, o (Flax's `OptimizedLSTMCell` layout).
The LSTM comes with a backward rule that saves its activations (`lstm_cell_fwd`,
`lstm_cell_bwd`), which `rnn`'s hand-written recurrence backward uses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

Carry = tuple  # RNN: (h_BxH,); LSTM: (c_BxH, h_BxH)
CellFn = Callable[[jax.Array, Carry], Carry]

CELLS = ("rnn", "lstm")
ACTIVATIONS = ("tanh", "relu")


def activation_fn(name: str) -> Callable[[jax.Array], jax.Array]:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown RNN activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
    return jnp.tanh if name == "tanh" else jax.nn.relu


def rnn_cell(z_BxH: jax.Array, carry: Carry, activation: str = "tanh") -> Carry:
    del carry  # h_{t-1} enters only through z
    return (activation_fn(activation)(z_BxH),)


# sigmoid(x) = 0.5 + 0.5 tanh(x / 2), so one tanh over the whole (B, 4H) pre-activation
# slab gives all four gates: gates = scale * tanh(scale * z) + shift, scale 1/2 and shift 1/2
# on the sigmoid blocks i, f, o, 1 and 0 on g (one elementwise pass, no exp and divide).
def _lstm_gate_constants(z_Bx4H: jax.Array) -> tuple[jax.Array, jax.Array]:
    hidden = z_Bx4H.shape[-1] // 4
    scale_1x4H = jnp.repeat(jnp.asarray([0.5, 0.5, 1.0, 0.5], z_Bx4H.dtype), hidden)[None]
    return scale_1x4H, jnp.where(scale_1x4H == 1.0, 0.0, 0.5).astype(z_Bx4H.dtype)


def lstm_cell_fwd(z_Bx4H: jax.Array, carry: Carry) -> tuple[Carry, tuple]:
    """The LSTM cell and what its backward needs: the gates' tanh slab, c_{t-1} and tanh(c_t)."""
    c_prev_BxH, _ = carry
    scale_1x4H, shift_1x4H = _lstm_gate_constants(z_Bx4H)
    t_Bx4H = jnp.tanh(z_Bx4H * scale_1x4H)
    i, f, g, o = jnp.split(t_Bx4H * scale_1x4H + shift_1x4H, 4, axis=-1)
    c_BxH = f * c_prev_BxH + i * g
    tanh_c_BxH = jnp.tanh(c_BxH)
    return (c_BxH, o * tanh_c_BxH), (t_Bx4H, c_prev_BxH, tanh_c_BxH)


def lstm_cell_bwd(saved: tuple, d_carry: Carry) -> tuple[jax.Array, Carry]:
    """(dz, d carry_{t-1}) from the saved activations, with no recomputed tanh or sigmoid."""
    t_Bx4H, c_prev_BxH, tanh_c_BxH = saved
    dc_BxH, dh_BxH = d_carry
    scale_1x4H, shift_1x4H = _lstm_gate_constants(t_Bx4H)
    i, f, g, o = jnp.split(t_Bx4H * scale_1x4H + shift_1x4H, 4, axis=-1)
    dc_BxH = dc_BxH + dh_BxH * o * (1.0 - tanh_c_BxH * tanh_c_BxH)
    d_gates_Bx4H = jnp.concatenate([dc_BxH * g, dc_BxH * c_prev_BxH, dc_BxH * i, dh_BxH * tanh_c_BxH], axis=-1)
    # d/dz [scale tanh(scale z) + shift] = scale^2 (1 - tanh^2)
    dz_Bx4H = d_gates_Bx4H * (scale_1x4H * scale_1x4H) * (1.0 - t_Bx4H * t_Bx4H)
    return dz_Bx4H, (dc_BxH * f, jnp.zeros_like(dh_BxH))  # h_{t-1} enters only through z


def lstm_cell(z_Bx4H: jax.Array, carry: Carry) -> Carry:
    return lstm_cell_fwd(z_Bx4H, carry)[0]


def cell_fn(cell: str, activation: str = "tanh") -> CellFn:
    if cell == "rnn":
        activation_fn(activation)  # validate now, not at trace time
        return functools.partial(rnn_cell, activation=activation)
    if cell == "lstm":
        return lstm_cell
    raise ValueError(f"unknown recurrent cell {cell!r}; valid: {', '.join(CELLS)}")


def zero_carry(cell: str, batch: int, hidden: int, dtype=jnp.float32) -> Carry:
    h = jnp.zeros((batch, hidden), dtype)
    return (h, h) if cell == "lstm" else (h,)
