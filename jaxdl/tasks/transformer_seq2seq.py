"""Sequence to sequence with the encoder-decoder transformer ({"source", "target"} batches).

Targets are BOS + tokens + EOS, 0-padded; the decoder reads target[:, :-1] and
predicts target[:, 1:]. Training minimises label-smoothed cross-entropy per
target token; evaluation reports the per-token NLL, teacher-forced token
accuracy and the exact-match rate of greedy decoding (every token up to and
including EOS right).
"""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections

from jaxdl import data
from jaxdl.data import text
from jaxdl.models import model_factory, transformer
from jaxdl.tasks.base import Task


def summarize(totals):
    tokens = totals["tokens"]
    return {"loss": totals["loss"] / tokens, "nll": totals["nll"] / tokens,
            "token_accuracy": totals["correct_tokens"] / tokens,
            "exact_match": totals["exact"] / totals["count"], "count": totals["count"]}


def headline(m) -> str:
    return (f"exact match {float(m['exact_match']):.4f}, token accuracy {float(m['token_accuracy']):.4f}, "
            f"nll {float(m['nll']):.4f}")


def pair_meta(spec: data.DatasetSpec) -> dict:
    """Vocabulary sizes and lengths of a sequence-pair dataset (ids 0-3 reserved, as in
    `jaxdl.data.text`). Specs give them as numbers, or as "source"/"target" codecs with
    `vocab_size` and `length` (the dates data)."""
    meta = spec.meta
    if hasattr(meta.get("source"), "vocab_size"):
        src, tgt = meta["source"], meta["target"]
        return {"src_vocab": src.vocab_size, "tgt_vocab": tgt.vocab_size,
                "max_src_len": src.length, "max_tgt_len": tgt.length}
    missing = [k for k in ("src_vocab", "tgt_vocab", "max_src_len", "max_tgt_len") if k not in meta]
    if missing:
        raise ValueError(f"the transformer_seq2seq task needs a sequence-pair dataset; the spec of "
                         f"{spec.name!r} has no {', '.join(missing)} in its meta")
    return {k: meta[k] for k in ("src_vocab", "tgt_vocab", "max_src_len", "max_tgt_len")}


def model_config(config: ml_collections.ConfigDict) -> transformer.TransformerConfig:
    meta = pair_meta(data.get_spec(config.data.name))
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    return transformer.TransformerConfig(
        src_vocab=meta["src_vocab"], tgt_vocab=meta["tgt_vocab"],
        max_len=max(meta["max_src_len"], meta["max_tgt_len"]), **hparams)


def make(config: ml_collections.ConfigDict) -> Task:
    cfg = model_config(config)
    model = model_factory("transformer_seq2seq", config.model.name)(cfg)
    smoothing = float(config.seq2seq.label_smoothing)

    def token_terms(params, batch, *, key=None, train=False):
        labels = batch["target"][:, 1:]
        mask = (labels != transformer.PAD).astype(jnp.float32)
        logits = model.apply(params, batch, key=key, train=train).astype(jnp.float32)  # float32 loss under bf16
        return (labels, mask, transformer.label_smoothed_cross_entropy(logits, labels, smoothing),
                transformer.label_smoothed_cross_entropy(logits, labels, 0.0),
                (jnp.argmax(logits, -1) == labels).astype(jnp.float32))

    def loss(params, batch, *, key=None, train=False):
        _, mask, smoothed, nll, correct = token_terms(params, batch, key=key, train=train)
        tokens = mask.sum()
        return (smoothed * mask).sum() / tokens, {"nll": (nll * mask).sum() / tokens,
                                                  "token_accuracy": (correct * mask).sum() / tokens}

    def eval_sums(params, batch, mask_B, *, key=None):
        del key  # deterministic
        labels, mask, smoothed, nll, correct = token_terms(params, batch)
        mask = mask * mask_B[:, None]
        pred = transformer.greedy_decode(params, batch["source"], cfg=cfg, length=labels.shape[1], bos=text.BOS)
        exact = jnp.all((pred == labels) | (labels == transformer.PAD), axis=1).astype(jnp.float32)
        return {"loss": (smoothed * mask).sum(), "nll": (nll * mask).sum(),
                "correct_tokens": (correct * mask).sum(), "tokens": mask.sum(),
                "exact": (exact * mask_B).sum(), "count": mask_B.sum()}

    return Task(model=model, loss=loss, eval_sums=eval_sums, summarize=summarize,
                monitor="exact_match", monitor_mode="max", headline=headline)
