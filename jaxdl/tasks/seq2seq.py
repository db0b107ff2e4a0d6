"""Sequence to sequence: {"source" (B, S), "target" (B, T)} id batches, e.g. `dates` or `reverse`.

Training minimises the per-token cross-entropy of the teacher-forced decoder over
the target's real tokens (padding masked). Evaluation reports that loss, the
teacher-forced token accuracy, and the exact-match accuracy of greedy decoding
(every output token up to and including <eos> right) and, with
`decoding.beam_size > 0`, of beam search.
"""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections
import optax

from jaxdl import data
from jaxdl.models import model_factory, seq2seq
from jaxdl.tasks.base import Task


def summarize(totals):
    out = {
        "loss": totals["loss"] / totals["tokens"],
        "token_accuracy": totals["correct_tokens"] / totals["tokens"],
        "exact_match": totals["exact"] / totals["count"],
        "count": totals["count"],
    }
    if "beam_exact" in totals:
        out["beam_exact_match"] = totals["beam_exact"] / totals["count"]
    return out


def headline(m) -> str:
    beam = f" (beam {m['beam_exact_match']:.4f})" if "beam_exact_match" in m else ""
    return (f"exact match {m['exact_match']:.4f}{beam} token accuracy {m['token_accuracy']:.4f} "
            f"loss {m['loss']:.4f}")


def _split(batch):
    target_BxT = batch["target"]
    return target_BxT[:, :-1], target_BxT[:, 1:]


def _codecs_and_hparams(config: ml_collections.ConfigDict):
    """The dataset's source and target codecs, and the model's hyperparameters with their vocabularies."""
    spec = data.get_spec(config.data.name)
    if "source" not in spec.meta or "target" not in spec.meta:
        seq_sets = [n for n, s in data.DATASETS.items() if "source" in s.meta]
        raise ValueError(f"the seq2seq task needs a string-pair dataset; {spec.name!r} is not one "
                         f"(valid: {', '.join(seq_sets)})")
    source, target = spec.meta["source"], spec.meta["target"]
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    hparams.update(source_vocab=source.vocab_size, target_vocab=target.vocab_size)
    return source, target, hparams


def make(config: ml_collections.ConfigDict) -> Task:
    source, target, hparams = _codecs_and_hparams(config)
    model = model_factory("seq2seq", config.model.name)(source.length, **hparams)
    cfg = seq2seq.Seq2SeqConfig(**hparams)
    steps = target.length - 1  # every output after <bos>
    beam = int(config.decoding.beam_size)

    def token_terms(params, batch):
        target_in_BxT, labels_BxT = _split(batch)
        logits_BxTxV = model.apply(params, {"source": batch["source"], "target_in": target_in_BxT}).astype(
            jnp.float32)  # float32 loss under a bfloat16 train.precision
        real_BxT = (labels_BxT != seq2seq.PAD).astype(jnp.float32)
        ce_BxT = optax.softmax_cross_entropy_with_integer_labels(logits_BxTxV, labels_BxT)
        right_BxT = (jnp.argmax(logits_BxTxV, axis=-1) == labels_BxT).astype(jnp.float32)
        return ce_BxT * real_BxT, right_BxT * real_BxT, real_BxT

    def loss(params, batch, *, key=None, train=False):
        del key, train  # deterministic
        ce_BxT, right_BxT, real_BxT = token_terms(params, batch)
        tokens = jnp.maximum(real_BxT.sum(), 1.0)
        return ce_BxT.sum() / tokens, {"token_accuracy": right_BxT.sum() / tokens}

    def eval_sums(params, batch, mask_B, *, key=None):
        del key
        ce_BxT, right_BxT, real_BxT = token_terms(params, batch)
        labels_BxT = _split(batch)[1]
        exact_B = jnp.all(seq2seq.greedy(params, cfg, batch["source"], steps) == labels_BxT, axis=1)
        sums = {
            "loss": jnp.sum(ce_BxT.sum(axis=1) * mask_B),
            "correct_tokens": jnp.sum(right_BxT.sum(axis=1) * mask_B),
            "tokens": jnp.sum(real_BxT.sum(axis=1) * mask_B),
            "exact": jnp.sum(exact_B * mask_B),
            "count": jnp.sum(mask_B),
        }
        if beam:
            tokens_BxT, _ = seq2seq.beam_search(params, cfg, batch["source"], steps, beam)
            sums["beam_exact"] = jnp.sum(jnp.all(tokens_BxT == labels_BxT, axis=1) * mask_B)
        return sums

    return Task(model=model, loss=loss, eval_sums=eval_sums, summarize=summarize,
                monitor="exact_match", monitor_mode="max", headline=headline)


def translate(config: ml_collections.ConfigDict, params, texts: list[str], *, beam_size: int = 0) -> list[str]:
    """`texts` decoded by the model of `config` with `params`: greedy, or beam search with
    `beam_size` > 0; strings in, strings out through the dataset's source and target codecs."""
    source, target, hparams = _codecs_and_hparams(config)
    cfg = seq2seq.Seq2SeqConfig(**hparams)
    source_BxS = jnp.asarray(source.encode(texts))
    steps = target.length - 1
    if beam_size:
        tokens_BxT, _ = seq2seq.beam_search(params, cfg, source_BxS, steps, beam_size)
    else:
        tokens_BxT = seq2seq.greedy(params, cfg, source_BxS, steps)
    return [target.decode(row) for row in tokens_BxT]
