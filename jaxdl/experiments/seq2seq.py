"""Sequence-to-sequence experiments: human-written dates -> ISO dates, and the reversal toy.

The context comparison (same data, steps and optimiser; only how the decoder
sees the encoder changes):

    jaxdl train seq2seq_dates          # Bahdanau attention
    jaxdl train seq2seq_dates_luong    # Luong (multiplicative) attention
    jaxdl train seq2seq_dates_matrix   # final state through its own identity-initialised matrix
    jaxdl train seq2seq_dates_concat   # final state concatenated with the input, one random matrix

(`--set model.context_init=random` makes the matrix variant start at random too.)
"""

from __future__ import annotations

import ml_collections

from jaxdl.experiments import common


def base(dataset: str = "dates") -> ml_collections.ConfigDict:
    """Every field the seq2seq task reads."""
    c = common.base("seq2seq", dataset)
    c.model = ml_collections.ConfigDict(dict(
        name="seq2seq", embed=32, hidden=128, encoder="gru", bidirectional=False,
        context="bahdanau", context_init="identity", attention=128))
    c.decoding = ml_collections.ConfigDict(dict(beam_size=0))  # 0 = greedy exact match only
    c.optimizer.update(name="adam", learning_rate=3e-3, clip_norm=1.0)
    c.optimizer.schedule.update(name="cosine", warmup_steps=100, end_factor=0.01)
    c.data.batch_size = 128
    c.train.num_devices = 1  # small recurrent steps: splitting a batch over CPU cores costs more than it saves
    return c


def seq2seq_dates() -> ml_collections.ConfigDict:
    """GRU encoder-decoder with Bahdanau attention: human-written dates -> ISO (exact match)."""
    c = base()
    c.train.epochs = 4  # 1,560 steps; one epoch already gives ~99% with attention
    c.decoding.beam_size = 3
    return c


def seq2seq_dates_luong() -> ml_collections.ConfigDict:
    """seq2seq_dates with Luong (multiplicative) attention."""
    c = seq2seq_dates()
    c.model.context = "luong"
    return c


def seq2seq_dates_matrix() -> ml_collections.ConfigDict:
    """seq2seq_dates without attention: the final encoder state through its own identity-initialised matrix."""
    c = seq2seq_dates()
    c.model.context = "matrix"
    return c


def seq2seq_dates_concat() -> ml_collections.ConfigDict:
    """seq2seq_dates without attention: the final encoder state concatenated with the input (one random matrix)."""
    c = seq2seq_dates()
    c.model.context = "concat"
    return c


def seq2seq_reverse() -> ml_collections.ConfigDict:
    """Tiny attention seq2seq reversing strings of 2-8 letters (the tests' end-to-end check)."""
    c = base("reverse")
    c.model.update(embed=16, hidden=64, attention=64)
    c.optimizer.learning_rate = 1e-2
    c.optimizer.schedule.warmup_steps = 20
    c.data.batch_size = 64
    c.data.eval_batch_size = 500
    c.train.epochs = 4
    return c
