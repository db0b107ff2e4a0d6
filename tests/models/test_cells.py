"""Recurrent cells: the LSTM's one-tanh gates and its saved-activation backward against the
textbook sigmoid cell and autodiff."""

import chex
import jax
import jax.numpy as jnp
import pytest

from jaxdl.models import cells

B, H = 3, 6


def _textbook_lstm_cell(z_Bx4H, carry):
    c, _ = carry
    i, f, g, o = jnp.split(z_Bx4H, 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return c, jax.nn.sigmoid(o) * jnp.tanh(c)


def test_lstm_cell_and_its_saved_activation_backward_equal_the_sigmoid_cell_and_autodiff():
    """One tanh for all four gates == sigmoid/tanh gates; the backward from the saved
    activations == jax.vjp of the textbook cell (pre-activations up to +-12: saturated too)."""
    kz, kc, kdc, kdh = jax.random.split(jax.random.key(11), 4)
    z = 4.0 * jax.random.normal(kz, (B, 4 * H))
    carry = (jax.random.normal(kc, (B, H)), jnp.zeros((B, H)))
    d_carry = (jax.random.normal(kdc, (B, H)), jax.random.normal(kdh, (B, H)))
    new, saved = cells.lstm_cell_fwd(z, carry)
    ref, ref_vjp = jax.vjp(_textbook_lstm_cell, z, carry)
    chex.assert_trees_all_close(new, ref, rtol=1e-6, atol=1e-6)
    chex.assert_trees_all_close(cells.lstm_cell_bwd(saved, d_carry), ref_vjp(d_carry), rtol=1e-5, atol=1e-6)


def test_an_unknown_cell_or_activation_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid: rnn, lstm"):
        cells.cell_fn("gru")
    with pytest.raises(ValueError, match="valid: tanh, relu"):
        cells.cell_fn("rnn", "gelu")
