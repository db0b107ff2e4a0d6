"""The seq2seq encoder-decoder: shapes, masks, teacher forcing == stepping, beam == greedy."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import seq2seq

B, S, T, VS, VT = 3, 7, 6, 11, 9
VARIANTS = {
    "concat": dict(context="concat"),
    "matrix_identity": dict(context="matrix"),
    "matrix_random": dict(context="matrix", context_init="random"),
    "bahdanau": dict(context="bahdanau"),
    "bahdanau_bidirectional": dict(context="bahdanau", bidirectional=True),
    "luong": dict(context="luong"),
}
EACH_VARIANT = pytest.mark.parametrize("kw", list(VARIANTS.values()), ids=list(VARIANTS))


def _cfg(**kw):
    return seq2seq.Seq2SeqConfig(source_vocab=VS, target_vocab=VT, embed=5, hidden=8, attention=6, **kw)


def _batch(seed=0):
    ks, kt = jax.random.split(jax.random.key(seed))
    lengths = jnp.array([7, 4, 1])
    source = jax.random.randint(ks, (B, S), 4, VS)
    source = jnp.where(jnp.arange(S)[None, :] < lengths[:, None], source, seq2seq.PAD)
    target_in = jax.random.randint(kt, (B, T), 4, VT).at[:, 0].set(seq2seq.BOS)
    return source, target_in


def _params(cfg, seed=1):
    return seq2seq.init(jax.random.key(seed), cfg)


@EACH_VARIANT
def test_shapes_and_finite(variant, kw):
    cfg = _cfg(**kw)
    params = _params(cfg)
    source, target_in = _batch()
    logits = variant(lambda p, s, t: seq2seq.logits(p, cfg, s, t))(params, source, target_in)
    chex.assert_shape(logits, (B, T, VT))
    chex.assert_tree_all_finite(logits)
    tokens = variant(lambda p, s: seq2seq.greedy(p, cfg, s, T))(params, source)
    chex.assert_shape(tokens, (B, T))
    beam_tokens, scores = variant(lambda p, s: seq2seq.beam_search(p, cfg, s, T, 3))(params, source)
    chex.assert_shape([beam_tokens, scores], [(B, T), (B,)])
    chex.assert_tree_all_finite(scores)


@EACH_VARIANT
def test_teacher_forcing_equals_stepping_in_a_python_loop(kw):
    cfg = _cfg(**kw)
    params = _params(cfg)
    source, target_in = _batch()
    enc = seq2seq.encode(params, cfg, source)
    h, expected = enc["h0"], []
    for t in range(T):
        h, logits_t = seq2seq.step(params, cfg, enc, h, target_in[:, t])
        expected.append(logits_t)
    chex.assert_trees_all_close(seq2seq.logits(params, cfg, source, target_in), jnp.stack(expected, 1),
                                atol=1e-5)


@EACH_VARIANT
def test_source_padding_is_ignored(kw):
    """Padding positions may hold anything (here real tokens): the outputs do not change."""
    cfg = _cfg(**kw)
    params = _params(cfg)
    source, target_in = _batch()
    mask = source != seq2seq.PAD
    noise = jax.random.randint(jax.random.key(5), source.shape, 4, VS)
    enc_clean = seq2seq.encode(params, cfg, source)
    params_noisy = jax.tree.map(lambda a: a, params)
    # A PAD embedding row of garbage must not leak in either.
    params_noisy["encoder"]["embed"] = params["encoder"]["embed"].at[seq2seq.PAD].set(1e3)
    enc_noisy = seq2seq.encode(params_noisy, cfg, source)
    chex.assert_trees_all_close(enc_noisy["h0"], enc_clean["h0"], atol=1e-5)
    chex.assert_trees_all_close(seq2seq.logits(params_noisy, cfg, source, target_in),
                                seq2seq.logits(params, cfg, source, target_in), atol=1e-5)
    # And a real token where row 1 is padded does change its outputs (the check can fail).
    changed = jnp.where(mask, source, noise)
    assert not np.allclose(seq2seq.logits(params, cfg, changed, target_in)[1],
                           seq2seq.logits(params, cfg, source, target_in)[1])


@EACH_VARIANT
def test_decoder_is_causal(kw):
    cfg = _cfg(**kw)
    params = _params(cfg)
    source, target_in = _batch()
    later = target_in.at[:, 3:].set(5)
    a, b = (seq2seq.logits(params, cfg, source, t) for t in (target_in, later))
    chex.assert_trees_all_close(a[:, :3], b[:, :3], atol=1e-6)  # step t reads tokens up to t
    assert not np.allclose(a[:, 3:], b[:, 3:])


def test_identity_context_init():
    cfg = _cfg(context="matrix")
    W_c = _params(cfg)["decoder"]["W_c"]
    H = cfg.hidden
    np.testing.assert_array_equal(W_c[:, : 2 * H], 0.0)
    np.testing.assert_array_equal(W_c[:, 2 * H :], np.eye(H))


@EACH_VARIANT
def test_beam_one_equals_greedy(kw):
    cfg = _cfg(**kw)
    params = _params(cfg, seed=2)
    source, _ = _batch(3)
    greedy = jax.jit(lambda p, s: seq2seq.greedy(p, cfg, s, T))(params, source)
    beam, _ = jax.jit(lambda p, s: seq2seq.beam_search(p, cfg, s, T, 1))(params, source)
    np.testing.assert_array_equal(beam, greedy)


def test_beam_score_is_the_log_probability_of_its_tokens_and_beats_greedy():
    cfg = _cfg(context="bahdanau")
    params = _params(cfg, seed=4)
    # Make <eos> likely so some beams finish early and the PAD handling is exercised.
    params["decoder"]["out"]["b"] = params["decoder"]["out"]["b"].at[seq2seq.EOS].set(1.5)
    source, _ = _batch(5)

    def log_prob(tokens):
        target_in = jnp.concatenate([jnp.full((B, 1), seq2seq.BOS), tokens[:, :-1]], axis=1)
        logp = jax.nn.log_softmax(seq2seq.logits(params, cfg, source, target_in))
        picked = jnp.take_along_axis(logp, tokens[..., None], axis=-1)[..., 0]
        return jnp.sum(picked * (tokens != seq2seq.PAD), axis=1)

    tokens, scores = seq2seq.beam_search(params, cfg, source, T, 4)
    assert np.any(tokens == seq2seq.EOS)
    after_eos = np.cumsum(np.asarray(tokens) == seq2seq.EOS, axis=1) - (np.asarray(tokens) == seq2seq.EOS)
    np.testing.assert_array_equal(np.asarray(tokens)[after_eos > 0], seq2seq.PAD)
    chex.assert_trees_all_close(scores, log_prob(tokens), atol=1e-4)
    assert np.all(np.asarray(scores) >= np.asarray(log_prob(seq2seq.greedy(params, cfg, source, T))) - 1e-5)


def test_greedy_pads_after_eos():
    cfg = _cfg(context="luong")
    params = _params(cfg)
    params["decoder"]["out"]["b"] = params["decoder"]["out"]["b"].at[seq2seq.EOS].set(100.0)
    tokens = seq2seq.greedy(params, cfg, _batch()[0], T)
    np.testing.assert_array_equal(tokens[:, 0], seq2seq.EOS)
    np.testing.assert_array_equal(tokens[:, 1:], seq2seq.PAD)


def test_bad_config_is_named():
    with pytest.raises(ValueError, match="context 'dot'.*valid: concat, matrix, bahdanau, luong"):
        _cfg(context="dot")
    with pytest.raises(ValueError, match="beam must be in 1..9"):
        seq2seq.beam_search(_params(_cfg()), _cfg(), _batch()[0], T, 10)
