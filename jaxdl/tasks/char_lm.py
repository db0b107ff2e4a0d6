"""Next-character prediction: cross-entropy in nats/char (and bits/char) over {"ids"} rows.

A batch row holds R + 1 consecutive token ids (R = the dataset's `meta["row"]`, 256
for Shakespeare). The task cuts each row into R / `lm.seq_len` sequences of `seq_len`
inputs and their next-token targets, so a batch of B rows trains B * R / seq_len
sequences and every character of the row is a target exactly once.

`config.model.name` picks a char_lm model from `jaxdl.models.MODELS`, a factory
(vocab_size, seq_len, **hparams) -> `LanguageModel`; any autoregressive model registered
there trains, evaluates and generates through this task unchanged.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxdl import data
from jaxdl.data import text
from jaxdl.models import lm, model_factory
from jaxdl.tasks.base import Task

_LN2 = math.log(2.0)


def vocab(config: ml_collections.ConfigDict) -> text.Vocab:
    """The dataset's fixed token vocabulary (ids the model was trained on)."""
    spec = data.get_spec(config.data.name)
    if "vocab" not in spec.meta or "row" not in spec.meta:
        raise ValueError(f"the char_lm task needs a token-row dataset (meta 'vocab' and 'row'); "
                         f"{spec.name!r} is not one")
    return spec.meta["vocab"]


def build_lm(config: ml_collections.ConfigDict) -> lm.LanguageModel:
    factory = model_factory("char_lm", config.model.name)
    row, seq_len = data.get_spec(config.data.name).meta.get("row"), config.lm.seq_len
    size = len(vocab(config))
    if seq_len < 1 or row % seq_len:
        raise ValueError(f"lm.seq_len must divide the dataset's row length {row}; got {seq_len}")
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    return factory(size, seq_len, **hparams)


def sequences(ids_BxR1: jax.Array, seq_len: int) -> tuple[jax.Array, jax.Array]:
    """Rows of R + 1 ids -> (inputs, targets), each (B * R / seq_len, seq_len)."""
    r = ids_BxR1.shape[1] - 1
    return ids_BxR1[:, :r].reshape(-1, seq_len), ids_BxR1[:, 1:].reshape(-1, seq_len)


def summarize(totals):
    loss = totals["loss"] / totals["count"]
    return {"loss": loss, "bits_per_char": loss / _LN2, "count": totals["count"]}


def headline(m) -> str:
    return f"loss {float(m['loss']):.4f} nats/char ({float(m['bits_per_char']):.3f} bits/char)"


def from_lm(language_model: lm.LanguageModel, seq_len: int) -> Task:
    apply = language_model.model.apply

    def char_losses(params, ids_BxR1, key, train):
        inputs, targets = sequences(ids_BxR1, seq_len)
        logits = apply(params, inputs, key=key, train=train).astype(jnp.float32)  # float32 loss under bf16
        # Fused log-softmax + gather: finite even for confidently wrong logits.
        return optax.softmax_cross_entropy_with_integer_labels(logits, targets)

    def loss(params, batch, *, key=None, train=False):
        mean = char_losses(params, batch["ids"], key, train).mean()
        return mean, {"bits_per_char": mean / _LN2}

    def eval_sums(params, batch, mask_B, *, key=None):
        del key  # deterministic
        per_char = char_losses(params, batch["ids"], None, False)
        # Every row has the same number of targets, so a mean of row means is the mean per char.
        row_mean_B = per_char.reshape(mask_B.shape[0], -1).mean(axis=1)
        return {"loss": jnp.sum(row_mean_B * mask_B), "count": jnp.sum(mask_B)}

    return Task(model=language_model.model, loss=loss, eval_sums=eval_sums, summarize=summarize,
                monitor="loss", monitor_mode="min", headline=headline)


def make(config: ml_collections.ConfigDict) -> Task:
    return from_lm(build_lm(config), config.lm.seq_len)


def generate_text(config: ml_collections.ConfigDict, params, prompt: str, *, length: int,
                  temperature: float, top_k: int = 0, seed: int = 0) -> str:
    """`length` characters sampled after `prompt` by the model of `config` with `params`."""
    from jaxdl.models import sampling  # keeps the task import light for training runs

    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    chars = vocab(config)
    unknown = sorted({c for c in prompt if c not in chars.index})
    if not prompt or unknown:
        raise ValueError(f"the prompt must be non-empty and use only the dataset's characters; "
                         f"unknown: {unknown}; valid: {''.join(chars.tokens[len(text.SPECIAL_TOKENS):])!r}")
    prompt_1xP = jnp.asarray(chars.encode(text.char_tokenize(prompt)))[None]
    ids_1xL = sampling.generate(build_lm(config), params, jax.random.key(seed), prompt_1xP, length,
                                temperature, top_k, suppress=(text.PAD, text.UNK, text.BOS, text.EOS))
    return "".join(chars.decode(ids_1xL[0]))
