"""The seq2seq task: the loss masks padding, eval counts exact matches; translating strings."""

import chex
import jax
import jax.numpy as jnp
import optax

from jaxdl import experiments, tasks
from jaxdl.data import dates, text
from jaxdl.models import seq2seq
from jaxdl.tasks import seq2seq as seq2seq_task


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
