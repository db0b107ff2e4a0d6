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

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import lax
from jax.nn import initializers as jinit

from jaxdl.models import remat as rm
from jaxdl.models.cells import CELLS, Carry, CellFn, cell_fn, lstm_cell, lstm_cell_bwd, lstm_cell_fwd, zero_carry
from jaxdl.models.matmul import matmul_last

Params = dict[str, jax.Array]
RECURRENT_INITS = ("identity", "orthogonal", "normal")
_GATES = {"rnn": 1, "lstm": 4}  # blocks of H columns in the fused projections


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
    one_hot_inputs: bool = False,
) -> Params:
    """{"input_kernel": (D, G*H), "recurrent_kernel": (H, G*H), "bias": (G*H,)}.

    U is LeCun-normal, variance 1/fan_in. A one-hot input has fan-in 1 (one active
    unit), so with `one_hot_inputs` U is N(0, 1), like an embedding table: with
    variance 1/D the input would reach the gates at 1/sqrt(D) of its useful scale.
    b is zero except the LSTM forget-gate block, `forget_bias` (1.0 helps long memory early on).
    """
    if cell not in CELLS:
        raise ValueError(f"unknown recurrent cell {cell!r}; valid: {', '.join(CELLS)}")
    g = _GATES[cell]
    k_in, k_rec = jax.random.split(key)
    bias = jnp.zeros((g, hidden))
    if cell == "lstm":
        bias = bias.at[1].set(forget_bias)  # gate order i, f, g, o
    return {
        "input_kernel": (jax.random.normal if one_hot_inputs else jinit.lecun_normal())(
            k_in, (input_size, g * hidden)),
        "recurrent_kernel": recurrent_matrix(k_rec, recurrent_init, hidden, g * hidden, recurrent_sd),
        "bias": bias.reshape(g * hidden),
    }


def project_inputs(layer: Params, x: jax.Array) -> jax.Array:
    """`x U + b` for every time step at once: (B, T, D) floats or (B, T) int ids -> (B, T, G*H)."""
    if jnp.issubdtype(x.dtype, jnp.integer):
        xu = layer["input_kernel"][x]  # one_hot(x) @ U == U[x]
    else:
        xu = matmul_last(x, layer["input_kernel"])
    return add_bias(xu, layer["bias"])


def add_bias(z: jax.Array, bias: jax.Array) -> jax.Array:
    """z (..., N) + bias (N,): the one bias vector broadcast over batch (and time) explicitly."""
    return z + bias.reshape((1,) * (z.ndim - 1) + bias.shape)


def step(cell: CellFn, layer: Params, carry: Carry, xu_BxG: jax.Array) -> tuple[Carry, jax.Array]:
    """One time step given the projected input `x_t U + b`: (new carry, h_t)."""
    carry = cell(xu_BxG + carry[-1] @ layer["recurrent_kernel"], carry)
    return carry, carry[-1]


def scan_layer(cell: CellFn, layer: Params, carry: Carry, xu_BxTxG: jax.Array, *, unroll: int = 1):
    """Runs the recurrence over time: returns (last carry, h_BxTxH)."""
    carry, h_TxBxH = _recurrence(cell, unroll, layer["recurrent_kernel"], jnp.swapaxes(xu_BxTxG, 0, 1), carry)
    return carry, jnp.swapaxes(h_TxBxH, 0, 1)


# The recurrence with a hand-written backward pass. Autodiff of `lax.scan` adds each
# step's h_{t-1}^T dz_t into the weight gradient inside the reverse loop: T small
# (H, B) x (B, G*H) matmuls plus carry bookkeeping, several times the forward's cost on
# CPU. Here the reverse scan only propagates dh (one dz W^T per step) and keeps every
# dz_t; dW = sum_t h_{t-1}^T dz_t is then one (H, T*B) x (T*B, G*H) matmul. The cell's
# elementwise part is differentiated by its rule from `_cell_rules`.
@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _recurrence(cell: CellFn, unroll: int, w_HxG, xu_TxBxG, carry0):
    return _recurrence_fwd(cell, unroll, w_HxG, xu_TxBxG, carry0)[0]


def _cell_rules(cell: CellFn):
    """(fwd(z, carry) -> (carry, saved), bwd(saved, d_carry) -> (dz, d_prev_carry)) of a cell;
    `saved[0]` is a (B, G*H) slab, the rest (B, H) arrays.

    The LSTM's rule saves its activations (`cells.lstm_cell_bwd`); any other cell saves (z, carry)
    and is differentiated by `jax.vjp`, recomputing its forward."""
    if cell is lstm_cell:
        return lstm_cell_fwd, lstm_cell_bwd

    def fwd(z_BxG, carry):
        return cell(z_BxG, carry), (z_BxG, carry)

    def bwd(saved, d_carry):
        return jax.vjp(cell, *saved)[1](d_carry)

    return fwd, bwd


# The forward writes each step's saved (B, G*H) slab over the x_t U + b it has just read, in
# the projections' buffer: a stacked scan output would be a fresh (T, B, G*H) buffer, zero-filled
# and copied before the loop (64 MB for the 2 x 512, b64, t128 benchmark row). (The backward
# writing dz_t over the slabs the same way made XLA copy the whole buffer every step.)
def _recurrence_fwd(cell, unroll, w_HxG, xu_TxBxG, carry0):
    cell_fwd, _ = _cell_rules(cell)

    def body(state, t):
        carry, slabs_TxBxG = state
        z_BxG = lax.dynamic_index_in_dim(slabs_TxBxG, t, keepdims=False) + carry[-1] @ w_HxG
        new, (slab_BxG, *saved) = cell_fwd(z_BxG, carry)
        return (new, lax.dynamic_update_index_in_dim(slabs_TxBxG, slab_BxG, t, 0)), (new[-1], saved)

    steps = jnp.arange(xu_TxBxG.shape[0])
    # The slabs have z's dtype: bf16 projections with a float32 carry give float32 z.
    slabs_TxBxG = xu_TxBxG.astype(jnp.result_type(xu_TxBxG, carry0[-1], w_HxG))
    (carry, slabs_TxBxG), (h_TxBxH, saved_T) = lax.scan(body, (carry0, slabs_TxBxG), steps, unroll=unroll)
    return (carry, h_TxBxH), (w_HxG, slabs_TxBxG, saved_T, h_TxBxH, carry0[-1])


def _recurrence_bwd(cell, unroll, residuals, cotangents):
    w_HxG, slabs_TxBxG, saved_T, h_TxBxH, h0_BxH = residuals
    d_last_carry, dh_TxBxH = cotangents
    _, cell_bwd = _cell_rules(cell)

    def body(d_carry, xs):
        slab_BxG, saved, dh_BxH = xs
        d_carry = (*d_carry[:-1], d_carry[-1] + dh_BxH)  # h_t is output and carry
        dz_BxG, d_prev = cell_bwd((slab_BxG, *saved), d_carry)
        d_prev = (*d_prev[:-1], d_prev[-1] + dz_BxG @ w_HxG.T)  # h_{t-1} also fed z_t through W
        return d_prev, dz_BxG

    d_carry0, dz_TxBxG = lax.scan(body, d_last_carry, (slabs_TxBxG, saved_T, dh_TxBxH),
                                  reverse=True, unroll=unroll)
    g = dz_TxBxG.shape[-1]
    h_prev_TxBxH = jnp.concatenate([h0_BxH[None], h_TxBxH[:-1]])
    dw_HxG = h_prev_TxBxH.reshape(-1, w_HxG.shape[0]).T @ dz_TxBxG.reshape(-1, g)
    return dw_HxG, dz_TxBxG, d_carry0


_recurrence.defvjp(_recurrence_fwd, _recurrence_bwd)


def stack(
    cell: str,
    layers: Sequence[Params],
    x: jax.Array,
    carries: Sequence[Carry] | None = None,
    *,
    activation: str = "tanh",
    unroll: int = 1,
    remat: str = "none",
) -> tuple[jax.Array, list[Carry]]:
    """L stacked layers over a whole sequence: x (B, T, D) or ids (B, T) -> (h_BxTxH, carries).

    A Python loop over layers rather than a scan: layer 0's input width (D, or the
    vocabulary for one-hot ids) differs from the others' (H), so their params do not
    stack into one array without padding; L is small, so unrolling it costs little
    tracing; and running layer by layer over the whole sequence keeps each layer's
    input projection one big hoisted matmul (a scan over layers inside the time scan
    would shrink it to one (B, H) matmul per step).

    `remat` (`jaxdl.models.remat`) recomputes each layer from its input in the backward pass.
    Layers 1..L-1 (all H wide) then run as a `lax.scan` over their stacked params with the
    checkpointed layer as its body: a layer recomputed inside the backward loop cannot be
    scheduled early, as XLA:CPU was measured to do with checkpointed layers in a Python loop
    (no memory saved at all).
    """
    fn = cell_fn(cell, activation)

    def run_layer(layer, h_TxBx_, carry):
        return _recurrence(fn, unroll, layer["recurrent_kernel"], project_inputs(layer, h_TxBx_), carry)

    batch = x.shape[0]
    carries = carries or [zero_carry(cell, batch, layer["recurrent_kernel"].shape[0]) for layer in layers]
    # Time-major between layers: one transpose of the input and one of the output, rather
    # than two (B, T) <-> (T, B) copies per layer of the (T, B, G*H) projections and their
    # gradients. With the 2-D weight-gradient matmuls of project_inputs and _recurrence_bwd:
    # 1.58 -> 1.38 CPU s per step of the 2x512 b64 t128 benchmark row (one core).
    h_TxBx_ = jnp.swapaxes(x, 0, 1)
    if rm.policy_name(remat) == "none" or len(layers) < 2:
        new_carries = []
        for layer, carry in zip(layers, carries):
            carry, h_TxBx_ = run_layer(layer, h_TxBx_, carry)
            new_carries.append(carry)
        return jnp.swapaxes(h_TxBx_, 0, 1), new_carries

    def body(h_TxBxH, layer_and_carry):
        layer, carry = layer_and_carry
        carry, h_TxBxH = run_layer(layer, h_TxBxH, carry)
        return h_TxBxH, carry

    first, h_TxBx_ = run_layer(layers[0], h_TxBx_, carries[0])
    stacked = jax.tree.map(lambda *a: jnp.stack(a), *layers[1:]), jax.tree.map(lambda *a: jnp.stack(a), *carries[1:])
    h_TxBx_, rest_LxC = lax.scan(rm.wrap(body, remat), h_TxBx_, stacked)
    rest = [jax.tree.map(lambda a, i=i: a[i], rest_LxC) for i in range(len(layers) - 1)]
    return jnp.swapaxes(h_TxBx_, 0, 1), [first, *rest]


def stack_step(
    cell: str, layers: Sequence[Params], carries: Sequence[Carry], x_B: jax.Array, *, activation: str = "tanh"
) -> tuple[list[Carry], jax.Array]:
    """One time step through all layers (for generation): x_B ids (B,) or (B, D) -> (carries, h_BxH)."""
    fn = cell_fn(cell, activation)
    h = x_B
    new_carries = []
    for layer, carry in zip(layers, carries):
        carry, h = step(fn, layer, carry, project_inputs(layer, h[:, None])[:, 0])
        new_carries.append(carry)
    return new_carries, h
