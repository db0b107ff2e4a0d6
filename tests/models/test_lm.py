"""Recurrent language models: shapes, the decoding step equals apply, bad hparams and inputs."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import lm as lm_lib

B, T, H = 3, 5, 6


@pytest.mark.parametrize("cell,embed_dim", [("rnn", 0), ("lstm", 0), ("lstm", 8)])
def test_lm_apply_shapes_and_step_matches_apply(cell, embed_dim):
    vocab = 11
    lm = lm_lib.recurrent_lm(vocab, T, cell=cell, hidden=H, layers=2, embed_dim=embed_dim)
    params = lm.model.init(jax.random.key(0))
    ids = jax.random.randint(jax.random.key(1), (B, T), 0, vocab)
    logits = lm.model.apply(params, ids)
    chex.assert_shape(logits, (B, T, vocab))
    chex.assert_tree_all_finite(logits)
    cache = lm.init_cache(params, B, T)
    for t in range(T):  # the decoding step, fed the same tokens, gives the same logits
        cache, step_logits = lm.step(params, cache, ids[:, t])
        np.testing.assert_allclose(step_logits, logits[:, t], rtol=1e-5, atol=1e-5)
    stacked = jax.vmap(lm.model.init)(jax.random.split(jax.random.key(0), 3))
    assert jax.tree.leaves(stacked)[0].shape[0] == 3  # vmappable init, as sweeps need


def test_lm_rejects_bad_hparams_and_inputs():
    with pytest.raises(ValueError, match="valid: rnn, lstm"):
        lm_lib.recurrent_lm(5, 4, cell="gru")
    with pytest.raises(ValueError, match="valid: tanh, relu"):
        lm_lib.recurrent_lm(5, 4, cell="rnn", activation="gelu")
    lm = lm_lib.recurrent_lm(5, 4, hidden=3, layers=1)
    with pytest.raises(ValueError, match="int token ids"):
        lm.model.apply(lm.model.init(jax.random.key(0)), jnp.zeros((2, 4, 5)))
