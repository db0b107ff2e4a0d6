"""Recurrent layers from matrix algebra: hand-computed steps, Flax's LSTM cells, scan == loop, hand-written backward."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxdl.models import cells, rnn

B, T, D, H = 3, 5, 4, 6


def _inputs(key=0):
    return jax.random.normal(jax.random.key(key), (B, T, D))


def _layers(cell, n=2, **kw):
    keys = jax.random.split(jax.random.key(1), n)
    return [rnn.init_layer(k, cell, D if i == 0 else H, H, **kw) for i, k in enumerate(keys)]


@pytest.mark.parametrize("cell", cells.CELLS)
def test_stack_shapes_and_finite(cell):
    h, carries = rnn.stack(cell, _layers(cell), _inputs())
    chex.assert_shape(h, (B, T, H))
    chex.assert_tree_all_finite((h, carries))
    assert len(carries) == 2
    chex.assert_shape(carries[-1], ((B, H), (B, H)) if cell == "lstm" else ((B, H),))
    np.testing.assert_allclose(carries[-1][-1], h[:, -1], rtol=1e-6)  # the carry ends with h_T


def test_rnn_two_steps_by_hand():
    """h_t = tanh(h_{t-1} W + x_t U + b) with numbers small enough to follow on paper."""
    layer = {
        "input_kernel": jnp.array([[1.0, 0.0], [0.0, -1.0]]),  # U
        "recurrent_kernel": jnp.array([[0.5, 0.0], [1.0, 2.0]]),  # W
        "bias": jnp.array([0.1, -0.2]),
    }
    x = jnp.array([[[1.0, 2.0], [0.0, 1.0]]])  # (B=1, T=2, D=2)
    # t=1: h0 = 0, so pre = x1 U + b = [1, -2] + [0.1, -0.2] = [1.1, -2.2]
    h1 = np.tanh([1.1, -2.2])
    # t=2: pre = h1 W + x2 U + b = [0.5 h1_0 + h1_1, 2 h1_1] + [0, -1] + [0.1, -0.2]
    h2 = np.tanh([0.5 * h1[0] + h1[1] + 0.1, 2.0 * h1[1] - 1.2])
    h, _ = rnn.stack("rnn", [layer], x)
    np.testing.assert_allclose(h[0], np.stack([h1, h2]), rtol=1e-6)
    # relu: t=1 pre [1.1, -2.2] -> [1.1, 0]; t=2 pre [0.55 + 0.1, 0 - 1.2] -> [0.65, 0]
    h, _ = rnn.stack("rnn", [layer], x, activation="relu")
    np.testing.assert_allclose(h[0], [[1.1, 0.0], [0.65, 0.0]], rtol=1e-6)


def test_bias_broadcast_over_batch():
    layer = rnn.init_layer(jax.random.key(0), "rnn", D, H)
    assert layer["bias"].shape == (H,)
    x = jnp.broadcast_to(_inputs()[:1], (B, T, D))  # identical rows
    h, _ = rnn.stack("rnn", [layer], x)
    np.testing.assert_allclose(h, jnp.broadcast_to(h[:1], h.shape), rtol=1e-6)


def test_integer_inputs_are_one_hot_rows():
    layer = rnn.init_layer(jax.random.key(0), "lstm", 7, H)
    ids = jnp.array([[0, 3, 6], [2, 2, 5]])
    np.testing.assert_allclose(
        rnn.project_inputs(layer, ids), rnn.project_inputs(layer, jax.nn.one_hot(ids, 7)), rtol=1e-6)


def test_recurrent_inits():
    key = jax.random.key(0)
    np.testing.assert_array_equal(rnn.recurrent_matrix(key, "identity", 3, 6), np.hstack([np.eye(3)] * 2))
    w = rnn.recurrent_matrix(key, "orthogonal", 5, 10)
    for block in (w[:, :5], w[:, 5:]):
        np.testing.assert_allclose(block.T @ block, np.eye(5), atol=1e-5)
    w = rnn.recurrent_matrix(key, "normal", 200, 200, sd=0.01)
    assert 0.009 < float(jnp.std(w)) < 0.011
    with pytest.raises(ValueError, match="valid: identity, orthogonal, normal"):
        rnn.recurrent_matrix(key, "eye", 3, 3)
    lstm = rnn.init_layer(key, "lstm", D, H, forget_bias=1.0)
    np.testing.assert_array_equal(lstm["bias"].reshape(4, H).sum(axis=1), [0.0, H, 0.0, 0.0])
    with pytest.raises(ValueError, match="valid: tanh, relu"):
        rnn.stack("rnn", _layers("rnn"), _inputs(), activation="sigmoid")


def _flax_params(cell: nnx.Module) -> dict:
    """A Flax LSTM cell's params in jaxdl's fused (D, 4H)/(H, 4H)/(4H,) layout, gates i, f, g, o."""
    if isinstance(cell, nnx.OptimizedLSTMCell):
        return {"input_kernel": cell.dense_i.kernel[...], "recurrent_kernel": cell.dense_h.kernel[...],
                "bias": cell.dense_h.bias[...]}
    gates = ("i", "f", "g", "o")
    inputs = (cell.ii, cell.if_, cell.ig, cell.io)  # `if` is a keyword, hence Flax's `if_`
    return {
        "input_kernel": jnp.concatenate([d.kernel[...] for d in inputs], axis=1),
        "recurrent_kernel": jnp.concatenate([getattr(cell, f"h{g}").kernel[...] for g in gates], axis=1),
        "bias": jnp.concatenate([getattr(cell, f"h{g}").bias[...] for g in gates]),
    }


@pytest.mark.parametrize("flax_cell", [nnx.OptimizedLSTMCell, nnx.LSTMCell])
def test_lstm_equals_flax_cell(flax_cell):
    cell = flax_cell(D, H, bias_init=nnx.initializers.normal(0.5), rngs=nnx.Rngs(0))
    layer = _flax_params(cell)
    x = _inputs()
    carry = (jax.random.normal(jax.random.key(5), (B, H)), jax.random.normal(jax.random.key(6), (B, H)))
    flax_carry, flax_h = carry, []
    for t in range(T):
        flax_carry, h = cell(flax_carry, x[:, t])
        flax_h.append(h)
    last, h = rnn.scan_layer(cells.lstm_cell, layer, carry, rnn.project_inputs(layer, x))
    chex.assert_trees_all_close(last, flax_carry, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, jnp.stack(flax_h, axis=1), rtol=1e-5, atol=1e-6)


def _loop_stack(cell, layers, x, carries, activation="tanh"):
    """Reference: the same maths as Python loops over layers and steps, one matmul per step."""
    fn = cells.cell_fn(cell, activation)
    h, last = x, []
    for layer, carry in zip(layers, carries):
        outs = []
        for t in range(x.shape[1]):
            carry, out = rnn.step(fn, layer, carry, rnn.add_bias(h[:, t] @ layer["input_kernel"], layer["bias"]))
            outs.append(out)
        h = jnp.stack(outs, axis=1)
        last.append(carry)
    return h, last


def _random_carries(cell, n=2):
    keys = iter(jax.random.split(jax.random.key(7), 2 * n))
    return [tuple(jax.random.normal(next(keys), (B, H)) for _ in range(2 if cell == "lstm" else 1))
            for _ in range(n)]


@pytest.mark.parametrize("cell", cells.CELLS)
def test_scan_equals_python_loop(cell):
    layers = _layers(cell, recurrent_init="normal", recurrent_sd=0.5) if cell == "rnn" else _layers(cell)
    x, carries = _inputs(), _random_carries(cell)
    h_scan, last_scan = rnn.stack(cell, layers, x, carries, unroll=2)
    h_loop, last_loop = _loop_stack(cell, layers, x, carries)
    np.testing.assert_allclose(h_scan, h_loop, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(last_scan, last_loop, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell,activation", [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh")])
def test_hand_written_backward_equals_autodiff_of_the_loop(cell, activation):
    """The scan's custom VJP against jax.grad through the plain Python loop: every
    parameter, the inputs and the initial carries, through outputs and final carries."""
    layers = _layers(cell, recurrent_init="normal", recurrent_sd=0.3)
    x, carries = _inputs(), _random_carries(cell)
    w_out = jax.random.normal(jax.random.key(9), (B, T, H))

    def objective(run):
        def f(layers, x, carries):
            h, last = run(layers, x, carries)
            return jnp.sum(h * w_out) + sum(jnp.sum(jnp.sin(c)) for carry in last for c in carry)
        return f

    def loop(layers, x, carries):
        return _loop_stack(cell, layers, x, carries, activation)

    def scanned(layers, x, carries):
        return rnn.stack(cell, layers, x, carries, activation=activation)

    ours = jax.grad(objective(scanned), argnums=(0, 1, 2))(layers, x, carries)
    ref = jax.grad(objective(loop), argnums=(0, 1, 2))(layers, x, carries)
    chex.assert_trees_all_close(ours, ref, rtol=1e-4, atol=1e-5)
