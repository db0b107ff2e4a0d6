"""Recurrent layers written from matrix algebra over plain param dicts, scanned over time.

Row-vector convention (batch rows): a vanilla RNN computes

    h_t = act(h_{t-1} W + x_t U + b)      W: (H, H), U: (D, H), b: (H,) broadcast over the batch

(the column-vector `act(W h + U x + b)` transposed), and an LSTM the same with the four
gates fused into one matrix: `z_t = x_t U + h_{t-1} W + b` with U: (D, 4H), W: (H, 4H),
split into i, f, g, o (Flax's `OptimizedLSTMCell` layout, so the params map one to one).

Speed: `x_t U + b` does not depend on the recurrence, so it is computed for all time
steps as one (B*T, D) x (D, G*H) matmul before the scan ("hoisted"); the scan body keeps
only the (B, H) x (H, G*H) recurrent matmul. For integer token inputs, `one_hot(x) U` is
a row gather `U[x]`, so a one-hot input layer costs no matmul at all.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
from jax import lax
from jax.nn import initializers as jinit

Params = dict[str, jax.Array]
Carry = Any  # RNN: h_BxH; LSTM: (c_BxH, h_BxH)

CELLS = ("rnn", "lstm")
ACTIVATIONS = ("tanh", "relu")
RECURRENT_INITS = ("identity", "orthogonal", "normal")
_GATES = {"rnn": 1, "lstm": 4}  # blocks of H columns in the fused projections


def _activation(name: str) -> Callable[[jax.Array], jax.Array]:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown RNN activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
    return jnp.tanh if name == "tanh" else jax.nn.relu


def recurrent_matrix(key: jax.Array, name: str, hidden: int, columns: int, sd: float = 0.01) -> jax.Array:
    """(hidden, columns) recurrent weights: identity / orthogonal / N(0, sd^2).

    `columns` is G*hidden for G fused gates; identity and orthogonal fill each
    (H, H) gate block separately, so every gate starts as an identity/rotation.
    """
    if name not in RECURRENT_INITS:
        raise ValueError(f"unknown recurrent init {name!r}; valid: {', '.join(RECURRENT_INITS)}")
    if name == "normal":
        return sd * jax.random.normal(key, (hidden, columns))
    blocks = columns // hidden
    if name == "identity":
        return jnp.tile(jnp.eye(hidden), (1, blocks))
    keys = jax.random.split(key, blocks)
    return jnp.concatenate([jinit.orthogonal()(k, (hidden, hidden)) for k in keys], axis=1)


def init_layer(
    key: jax.Array,
    cell: str,
    input_size: int,
    hidden: int,
    *,
    recurrent_init: str = "orthogonal",
    recurrent_sd: float = 0.01,
    forget_bias: float = 0.0,
) -> Params:
    """{"input_kernel": (D, G*H), "recurrent_kernel": (H, G*H), "bias": (G*H,)}.

    U is LeCun-normal (variance 1/D; for a one-hot input layer use D = vocab size,
    which the gather sees as unit-variance rows scaled by 1/sqrt(V)); b is zero except
    the LSTM forget-gate block, set to `forget_bias` (1.0 helps long memory early on).
    """
    if cell not in CELLS:
        raise ValueError(f"unknown recurrent cell {cell!r}; valid: {', '.join(CELLS)}")
    g = _GATES[cell]
    k_in, k_rec = jax.random.split(key)
    bias = jnp.zeros((g, hidden))
    if cell == "lstm":
        bias = bias.at[1].set(forget_bias)  # gate order i, f, g, o
    return {
        "input_kernel": jinit.lecun_normal()(k_in, (input_size, g * hidden)),
        "recurrent_kernel": recurrent_matrix(k_rec, recurrent_init, hidden, g * hidden, recurrent_sd),
        "bias": bias.reshape(g * hidden),
    }


def project_inputs(layer: Params, x: jax.Array) -> jax.Array:
    """`x U + b` for every time step at once: (B, T, D) floats or (B, T) int ids -> (B, T, G*H)."""
    if jnp.issubdtype(x.dtype, jnp.integer):
        xu = layer["input_kernel"][x]  # one_hot(x) @ U == U[x]
    else:
        xu = jnp.einsum("btd,dg->btg", x, layer["input_kernel"])
    return add_bias(xu, layer["bias"])


def add_bias(z: jax.Array, bias: jax.Array) -> jax.Array:
    """z (..., N) + bias (N,): the one bias vector broadcast over batch (and time) explicitly."""
    return z + bias.reshape((1,) * (z.ndim - 1) + bias.shape)


def rnn_step(layer: Params, h_BxH: jax.Array, xu_BxH: jax.Array, activation: str = "tanh"):
    """One vanilla RNN step given the projected input `x_t U + b`; returns (carry, output)."""
    h_BxH = _activation(activation)(h_BxH @ layer["recurrent_kernel"] + xu_BxH)
    return h_BxH, h_BxH


def lstm_step(layer: Params, carry: tuple[jax.Array, jax.Array], xu_Bx4H: jax.Array):
    """One LSTM step given the projected input `x_t U + b` (gates i, f, g, o fused)."""
    c_BxH, h_BxH = carry
    z_Bx4H = xu_Bx4H + h_BxH @ layer["recurrent_kernel"]
    i, f, g, o = jnp.split(z_Bx4H, 4, axis=-1)
    c_BxH = jax.nn.sigmoid(f) * c_BxH + jax.nn.sigmoid(i) * jnp.tanh(g)
    h_BxH = jax.nn.sigmoid(o) * jnp.tanh(c_BxH)
    return (c_BxH, h_BxH), h_BxH


def step_fn(cell: str, activation: str = "tanh") -> Callable[[Params, Carry, jax.Array], tuple[Carry, jax.Array]]:
    """`step(layer, carry, xu_BxGH) -> (carry, h_BxH)` for `cell`."""
    if cell == "rnn":
        _activation(activation)  # validate now, not at trace time
        return lambda layer, h, xu: rnn_step(layer, h, xu, activation)
    if cell == "lstm":
        return lstm_step
    raise ValueError(f"unknown recurrent cell {cell!r}; valid: {', '.join(CELLS)}")


def zero_carry(cell: str, batch: int, hidden: int, dtype=jnp.float32) -> Carry:
    h = jnp.zeros((batch, hidden), dtype)
    return (h, h) if cell == "lstm" else h


def scan_layer(step, layer: Params, carry: Carry, xu_BxTxG: jax.Array, *, unroll: int = 1):
    """Runs `step` over time with `lax.scan`: returns (last carry, h_BxTxH)."""
    carry, h_TxBxH = lax.scan(
        lambda c, xu: step(layer, c, xu), carry, jnp.swapaxes(xu_BxTxG, 0, 1), unroll=unroll
    )
    return carry, jnp.swapaxes(h_TxBxH, 0, 1)


def stack(
    cell: str,
    layers: Sequence[Params],
    x: jax.Array,
    carries: Sequence[Carry] | None = None,
    *,
    activation: str = "tanh",
    unroll: int = 1,
) -> tuple[jax.Array, list[Carry]]:
    """L stacked layers over a whole sequence: x (B, T, D) or ids (B, T) -> (h_BxTxH, carries).

    A Python loop over layers rather than a scan: layer 0's input width (D, or the
    vocabulary for one-hot ids) differs from the others' (H), so their params do not
    stack into one array without padding; L is small, so unrolling it costs little
    tracing; and running layer by layer over the whole sequence keeps each layer's
    input projection one big hoisted matmul (a scan over layers inside the time scan
    would shrink it to one (B, H) matmul per step).
    """
    step = step_fn(cell, activation)
    batch = x.shape[0]
    new_carries = []
    h = x
    for i, layer in enumerate(layers):
        hidden = layer["recurrent_kernel"].shape[0]
        carry = zero_carry(cell, batch, hidden) if carries is None else carries[i]
        carry, h = scan_layer(step, layer, carry, project_inputs(layer, h), unroll=unroll)
        new_carries.append(carry)
    return h, new_carries


def stack_step(
    cell: str, layers: Sequence[Params], carries: Sequence[Carry], x_B: jax.Array, *, activation: str = "tanh"
) -> tuple[list[Carry], jax.Array]:
    """One time step through all layers (for generation): x_B ids (B,) or (B, D) -> (carries, h_BxH)."""
    step = step_fn(cell, activation)
    h = x_B
    new_carries = []
    for layer, carry in zip(layers, carries):
        carry, h = step(layer, carry, project_inputs(layer, h[:, None])[:, 0])
        new_carries.append(carry)
    return new_carries, h
