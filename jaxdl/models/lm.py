"""Language models as pure functions: training `apply` plus a one-token decoding `step`.

Any autoregressive model (recurrent here, a transformer elsewhere) is a
`LanguageModel`: `model.apply(params, ids_BxT) -> logits_BxTxV` for teacher-forced
training, and `init_cache`/`step` for generation, where the cache is whatever the model
carries between tokens (RNN/LSTM states here, keys/values and a position for a
transformer). `jaxdl.models.sampling.generate` only ever sees this interface.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.nn import initializers as jinit

from jaxdl.models import cells, remat as rm, rnn
from jaxdl.models.matmul import matmul_last
from jaxdl.models.pure import Params, PureModel


# eq=False: hashed by identity, so a LanguageModel can be a static argument of jax.jit.
@dataclasses.dataclass(frozen=True, eq=False)
class LanguageModel:
    model: PureModel  # init(key) -> params; apply(params, ids_BxT, *, key, train) -> logits_BxTxV
    vocab_size: int
    # (params, batch_size, max_len) -> the decoding cache for up to max_len tokens.
    init_cache: Callable[[Params, int, int], Any]
    # (params, cache, ids_B) -> (cache, logits_BxV of the next token).
    step: Callable[[Params, Any, jax.Array], tuple[Any, jax.Array]]


def recurrent_lm(
    vocab_size: int,
    seq_len: int,
    *,
    cell: str = "lstm",
    hidden: int = 512,
    layers: int = 2,
    embed_dim: int = 0,
    activation: str = "tanh",
    recurrent_init: str = "orthogonal",
    recurrent_sd: float = 0.01,
    forget_bias: float = 1.0,
    unroll: int = 1,
    remat: str = "none",
) -> LanguageModel:
    """ids -> [embedding] -> `layers` stacked RNN/LSTM layers of width `hidden` -> logits.

    `embed_dim=0` feeds one-hot ids straight into layer 0 (its input matmul is then a
    row gather); `embed_dim > 0` puts a (V, E) embedding table in front. `activation`,
    `recurrent_init` and `recurrent_sd` apply to vanilla RNN cells (the LSTM's
    recurrent kernel is always orthogonal per gate, its activations fixed).
    `remat` (`jaxdl.models.remat`) recomputes each layer's activations in the backward pass.
    """
    if cell not in cells.CELLS:
        raise ValueError(f"unknown recurrent cell {cell!r}; valid: {', '.join(cells.CELLS)}")
    for name, value in (("vocab_size", vocab_size), ("hidden", hidden), ("layers", layers)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    cells.cell_fn(cell, activation)  # fails now, naming the valid activations, on a bad one
    remat = rm.policy_name(remat)
    rec_init = recurrent_init if cell == "rnn" else "orthogonal"
    hparams = dict(cell=cell, hidden=hidden, layers=layers, embed_dim=embed_dim, activation=activation,
                   recurrent_init=rec_init, recurrent_sd=recurrent_sd, forget_bias=forget_bias, unroll=unroll,
                   remat=remat)

    init = functools.partial(_init_recurrent_lm, vocab_size=vocab_size, cell=cell, hidden=hidden, layers=layers,
                             embed_dim=embed_dim, recurrent_init=rec_init, recurrent_sd=recurrent_sd,
                             forget_bias=forget_bias)

    def _layers(params: Params) -> list[Params]:
        return [params[f"layer{i}"] for i in range(layers)]

    def _embed(params: Params, ids):
        return params["embed"][ids] if embed_dim > 0 else ids

    def apply(params: Params, ids_BxT: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        del key, train  # deterministic: no dropout
        if ids_BxT.ndim != 2 or not jnp.issubdtype(ids_BxT.dtype, jnp.integer):
            raise ValueError(f"expects int token ids of shape (batch, time); got {ids_BxT.dtype} {ids_BxT.shape}")
        h_BxTxH, _ = rnn.stack(cell, _layers(params), _embed(params, ids_BxT), activation=activation,
                               unroll=unroll, remat=remat)
        return rnn.add_bias(matmul_last(h_BxTxH, params["head"]["kernel"]), params["head"]["bias"])

    def init_cache(params: Params, batch_size: int, max_len: int):
        del params, max_len  # a recurrent state does not grow with the length
        return [cells.zero_carry(cell, batch_size, hidden) for _ in range(layers)]

    def step(params: Params, cache, ids_B: jax.Array):
        cache, h_BxH = rnn.stack_step(cell, _layers(params), cache, _embed(params, ids_B), activation=activation)
        return cache, rnn.add_bias(h_BxH @ params["head"]["kernel"], params["head"]["bias"])

    model = PureModel(f"{cell}_lm", hparams, (seq_len,), init, apply)
    return LanguageModel(model=model, vocab_size=vocab_size, init_cache=init_cache, step=step)


def _init_recurrent_lm(key: jax.Array, *, vocab_size: int, cell: str, hidden: int, layers: int, embed_dim: int,
                       recurrent_init: str, recurrent_sd: float, forget_bias: float) -> Params:
    """`recurrent_lm`'s params: [embed], layer0..layer{L-1}, head."""
    k_embed, k_head, *k_layers = jax.random.split(key, layers + 2)
    params: Params = {}
    width = vocab_size
    if embed_dim > 0:
        params["embed"] = jax.random.normal(k_embed, (vocab_size, embed_dim))
        width = embed_dim
    for i, k in enumerate(k_layers):
        params[f"layer{i}"] = rnn.init_layer(
            k, cell, width if i == 0 else hidden, hidden, recurrent_init=recurrent_init,
            recurrent_sd=recurrent_sd, forget_bias=forget_bias, one_hot_inputs=i == 0 and embed_dim == 0)
    params["head"] = {"kernel": jinit.lecun_normal()(k_head, (hidden, vocab_size)),
                      "bias": jnp.zeros((vocab_size,))}
    return params
