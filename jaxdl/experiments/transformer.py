"""Encoder-decoder transformer experiments: the copy and dates tasks."""

from __future__ import annotations

import ml_collections

from jaxdl.experiments import common


def _seq2seq(dataset: str) -> ml_collections.ConfigDict:
    """Annotated-Transformer recipe: Adam(0.9, 0.98, 1e-9), the Noam schedule, label smoothing 0.1."""
    c = common.base("transformer_seq2seq", dataset)
    c.model = ml_collections.ConfigDict(
        dict(name="transformer", num_layers=2, d_model=64, num_heads=4, d_ff=256, dropout=0.1,
             attention="fast"))
    c.seq2seq = ml_collections.ConfigDict(dict(label_smoothing=0.1))
    c.optimizer.update(name="adam", b1=0.9, b2=0.98, eps=1e-9)
    # The paper's peak rate (d_model * warmup) ** -0.5, reached at the end of warmup.
    c.optimizer.schedule.update(name="noam", warmup_steps=400)
    c.optimizer.learning_rate = (64 * 400) ** -0.5
    c.data.batch_size = 128
    c.data.eval_batch_size = 500
    c.train.eval_splits = ("validation",)
    return c


def transformer_copy() -> ml_collections.ConfigDict:
    """Encoder-decoder transformer learns to copy strings of 1-10 symbols (synthetic)."""
    c = _seq2seq("copy_task")
    c.train.epochs = 6
    return c


def transformer_dates() -> ml_collections.ConfigDict:
    """Encoder-decoder transformer: human-written dates in 8 locales -> ISO YYYY-MM-DD."""
    c = _seq2seq("dates")
    c.train.epochs = 5
    c.train.eval_splits = ("validation", "test")
    return c
