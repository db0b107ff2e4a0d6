"""The from-scratch GRU against Flax's nnx.GRUCell, and its scan against a Python loop."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxdl.models import gru

B, T, D, H = 3, 5, 4, 6


def _flax_cell(seed=0):
    cell = nnx.GRUCell(D, H, rngs=nnx.Rngs(seed))
    # Flax's zero bias would hide a bias mistake: give it one.
    cell.dense_i.bias.value = jax.random.normal(jax.random.key(seed + 100), (3 * H,))
    return cell


def _inputs(seed=1):
    kx, kh = jax.random.split(jax.random.key(seed))
    return jax.random.normal(kx, (B, T, D)), jax.random.normal(kh, (B, H))


def test_step_equals_flax_cell(variant):
    cell = _flax_cell()
    params = gru.params_from_flax(nnx.to_pure_dict(nnx.state(cell, nnx.Param)))
    x_BxTxD, h_BxH = _inputs()
    expected, _ = cell(h_BxH, x_BxTxD[:, 0])
    got = variant(gru.step)(params, h_BxH, x_BxTxD[:, 0])
    chex.assert_trees_all_close(got, expected, atol=1e-6)


def test_flax_cell_takes_our_params():
    params = gru.init(jax.random.key(3), D, H)
    params["b"] = jax.random.normal(jax.random.key(4), (3 * H,))
    cell = _flax_cell()
    state = nnx.state(cell, nnx.Param)
    nnx.replace_by_pure_dict(state, gru.params_to_flax(params))
    nnx.update(cell, state)
    x_BxTxD, h_BxH = _inputs()
    chex.assert_trees_all_close(gru.step(params, h_BxH, x_BxTxD[:, 1]), cell(h_BxH, x_BxTxD[:, 1])[0],
                                atol=1e-6)


def test_init_shapes_and_flax_defaults():
    params = gru.init(jax.random.key(0), D, H)
    chex.assert_shape([params["W_x"], params["W_h"], params["b"]], [(D, 3 * H), (H, 3 * H), (3 * H,)])
    # orthogonal recurrent kernel: rows orthonormal, as Flax's default
    chex.assert_trees_all_close(params["W_h"] @ params["W_h"].T, jnp.eye(H), atol=1e-5)
    np.testing.assert_array_equal(params["b"], 0.0)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_equals_python_loop_of_flax_cell(variant, reverse):
    cell = _flax_cell()
    params = gru.params_from_flax(nnx.to_pure_dict(nnx.state(cell, nnx.Param)))
    x_BxTxD, h_BxH = _inputs()
    h_last, hs_BxTxH = variant(lambda p, x, h: gru.scan(p, x, h, reverse=reverse))(
        params, x_BxTxD, h_BxH)
    h, expected = h_BxH, [None] * T
    for t in (reversed(range(T)) if reverse else range(T)):
        h, _ = cell(h, x_BxTxD[:, t])
        expected[t] = h
    chex.assert_shape(hs_BxTxH, (B, T, H))
    chex.assert_trees_all_close(hs_BxTxH, jnp.stack(expected, axis=1), atol=1e-5)
    chex.assert_trees_all_close(h_last, h, atol=1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_mask_carries_state_over_padding(reverse):
    params = gru.init(jax.random.key(0), D, H)
    x_BxTxD, h_BxH = _inputs()
    lengths = jnp.array([5, 3, 1])
    mask_BxT = (jnp.arange(T)[None, :] < lengths[:, None]).astype(jnp.float32)
    h_last, _ = gru.scan(params, x_BxTxD, h_BxH, mask_BxT, reverse=reverse)
    for b, n in enumerate(lengths.tolist()):  # each row alone, truncated to its length
        h_b, _ = gru.scan(params, x_BxTxD[b : b + 1, :n], h_BxH[b : b + 1], reverse=reverse)
        chex.assert_trees_all_close(h_last[b], h_b[0], atol=1e-5)
    # what sits in the padding does not matter
    noisy = jnp.where(mask_BxT[..., None] > 0, x_BxTxD, 100.0)
    chex.assert_trees_all_close(gru.scan(params, noisy, h_BxH, mask_BxT, reverse=reverse)[0], h_last)
