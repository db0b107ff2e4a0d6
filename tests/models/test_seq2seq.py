"""The seq2seq encoder-decoder: shapes, masks, teacher forcing == stepping, beam == greedy, learning."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import experiments, tasks
from jaxdl.data import dates, text
from jaxdl.models import seq2seq
from jaxdl.runs import saved
from jaxdl.tasks import seq2seq as seq2seq_task
from jaxdl.train import loop

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


@pytest.mark.slow
def test_learns_to_reverse(tmp_path, data_dir):
    config = experiments.get_config("seq2seq_reverse")
    config.data.data_dir = data_dir
    config.train.epochs = 3
    config.train.eval_splits = ("test",)
    config.train.progress_updates_per_epoch = 1  # one chunk per epoch: one scan to compile
    result = loop.train(config, str(tmp_path), live=False)
    assert result.final["test"]["exact_match"] >= 0.9, result.final["test"]
    # A warmup + cosine run restores from its workdir.
    chex.assert_trees_all_equal(saved.restore(str(tmp_path))[2].params, result.state.params)


def test_task_loss_masks_padding_and_eval_counts_exact_matches():
    config = experiments.get_config("seq2seq_reverse")
    config.model.update(embed=5, hidden=8, attention=6)
    config.decoding.beam_size = 2
    task = tasks.make(config)
    params = task.model.init(jax.random.key(0))
    codec = dates.REVERSE_SOURCE, dates.REVERSE_TARGET
    words = ["abc", "jihgfedc", "ab"]
    batch = {"source": jnp.asarray(codec[0].encode(words)), "target": jnp.asarray(codec[1].encode(
        [w[::-1] for w in words]))}
    loss, metrics = task.loss(params, batch, key=jax.random.key(1), train=True)
    logits = task.model.apply(params, {"source": batch["source"], "target_in": batch["target"][:, :-1]})
    labels = batch["target"][:, 1:]
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    real = labels != text.PAD
    chex.assert_trees_all_close(loss, ce[real].mean(), atol=1e-6)
    assert int(real.sum()) == sum(len(w) + 1 for w in words)  # characters and <eos>
    right = jnp.argmax(logits, -1) == labels
    chex.assert_trees_all_close(metrics["token_accuracy"], right[real].mean(), atol=1e-6)
    sums = task.eval_sums(params, batch, jnp.array([1.0, 1.0, 0.0]), key=jax.random.key(2))
    chex.assert_trees_all_close(sums["loss"], jnp.sum(ce[:2][real[:2]]), atol=1e-5)
    # Rows 0 and 2 ask for exactly what greedy decoding says, row 1 for the true reversal;
    # row 2 is masked out.
    cfg = seq2seq.Seq2SeqConfig(**task.model.hparams)
    greedy = seq2seq.greedy(params, cfg, batch["source"], labels.shape[1])
    said = jnp.concatenate([jnp.full((3, 1), text.BOS), greedy], axis=1)
    batch["target"] = batch["target"].at[0].set(said[0]).at[2].set(said[2])
    mask = jnp.array([1.0, 1.0, 0.0])
    sums = task.eval_sums(params, batch, mask, key=jax.random.key(2))
    row1_right = bool(jnp.all(greedy[1] == labels[1]))
    assert float(sums["exact"]) == 1.0 + row1_right and float(sums["count"]) == 2.0
    assert "beam_exact" in sums
    assert set(task.summarize(sums)) == {"loss", "token_accuracy", "exact_match", "beam_exact_match", "count"}


def test_translate_decodes_strings_as_greedy_and_beam_search_do():
    config = experiments.get_config("seq2seq_reverse")
    config.model.update(embed=5, hidden=8, attention=6)
    params = tasks.make(config).model.init(jax.random.key(0))
    words = ["abc", "jihgfedc"]
    cfg = seq2seq.Seq2SeqConfig(**tasks.make(config).model.hparams)
    source = jnp.asarray(dates.REVERSE_SOURCE.encode(words))
    steps = dates.REVERSE_TARGET.length - 1
    greedy = [dates.REVERSE_TARGET.decode(r) for r in seq2seq.greedy(params, cfg, source, steps)]
    beam = [dates.REVERSE_TARGET.decode(r) for r in seq2seq.beam_search(params, cfg, source, steps, 3)[0]]
    assert seq2seq_task.translate(config, params, words) == greedy
    assert seq2seq_task.translate(config, params, words, beam_size=3) == beam
    assert all(set(w) <= set(dates.REVERSE_CHARS) for w in greedy + beam)
