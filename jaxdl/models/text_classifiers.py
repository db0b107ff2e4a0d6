"""Text classifiers over token ids: bag-of-words MLP, embedding bag, LSTM.

Inputs are `tokens_BxT` int32 padded with PAD = 0; `jaxdl.models.text_features` turns
them into vocabulary ids, hashed n-grams and weighted bags.

Every model is a PureModel whose params are a plain dict: the feature maps are
written out here and only the dense heads are NNX modules (`jaxdl.models.mlp`).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.data.text import PAD, UNK
from jaxdl.models import dropout as dropout_lib, inits, mlp, rnn
from jaxdl.models.pure import PureModel
from jaxdl.models.text_features import WEIGHTINGS, sparse_bag, token_ids


def _check(max_len: int, vocab_size: int, bigram_buckets: int, trigram_buckets: int = 0) -> None:
    if vocab_size <= UNK + 1:
        raise ValueError(f"vocab_size must leave room for words after PAD and UNK, got {vocab_size}")
    if bigram_buckets < 0 or trigram_buckets < 0 or max_len < 1:
        raise ValueError(f"need bigram_buckets >= 0, trigram_buckets >= 0 and max_len >= 1, got "
                         f"{bigram_buckets}, {trigram_buckets}, {max_len}")


def _check_tokens(name: str, tokens_BxT: jax.Array, max_len: int) -> None:
    if tokens_BxT.ndim != 2 or tokens_BxT.shape[1] != max_len:
        raise ValueError(f"{name} expects token ids of shape (batch, {max_len}); got {tuple(tokens_BxT.shape)}")


def _dropout(x, rate, key, train):
    return dropout_lib.inverted_dropout(x, rate, key) if train and rate > 0 else x


def bow_mlp(max_len: int, num_classes: int, *, vocab_size: int = 10000, hidden: Sequence[int] = (16, 16),
            weighting: str = "binary", idf: np.ndarray | None = None, nb_ratio: np.ndarray | None = None,
            bigram_buckets: int = 0, trigram_buckets: int = 0, activation: str = "relu", dropout: float = 0.0,
            input_dropout: float = 0.0, kernel_init: str = "lecun_normal") -> PureModel:
    """Chollet's IMDB model: multi-hot of the top `vocab_size` words -> 16 -> 16 -> classes.

    The first layer, bag (B x num_ids) @ W (num_ids x H), is computed from `sparse_bag`;
    input dropout drops bag entries (zeros stay zero, so only the distinct ids need masks).
    hidden=() is the linear model bag @ W + b (logistic regression; NB-LR with weighting="nb").
    weighting="tfidf" needs `idf`, weighting="nb" `nb_ratio` (`log_count_ratio`), each of
    length vocab_size + bigram_buckets + trigram_buckets and from the training split.
    """
    _check(max_len, vocab_size, bigram_buckets, trigram_buckets)
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; valid: {', '.join(WEIGHTINGS)}")
    num_ids = vocab_size + bigram_buckets + trigram_buckets
    id_weights = {"tfidf": ("idf", idf), "nb": ("nb_ratio", nb_ratio)}.get(weighting)
    if id_weights is not None and (id_weights[1] is None or np.shape(id_weights[1]) != (num_ids,)):
        raise ValueError(f"weighting={weighting!r} needs {id_weights[0]} of shape ({num_ids},), got "
                         f"{None if id_weights[1] is None else np.shape(id_weights[1])}")
    weights_V = None if id_weights is None else jnp.asarray(id_weights[1])
    hidden = tuple(hidden)
    first = inits.kernel_init(kernel_init)
    act = inits.activation(activation)
    width = hidden[0] if hidden else num_classes
    head = mlp.make((hidden[0],), num_classes, hidden=hidden[1:], activation=activation, dropout=dropout,
                    kernel_init=kernel_init) if hidden else None

    def init(key):
        k_first, k_head = jax.random.split(key)
        params = {"kernel": first(k_first, (num_ids, width)), "bias": jnp.zeros(width)}
        if head is not None:
            params["head"] = head.init(k_head)
        return params

    def apply(params, tokens_BxT, *, key=None, train=False):
        _check_tokens("bow_mlp", tokens_BxT, max_len)
        if train and key is None and (dropout > 0 or input_dropout > 0):
            raise ValueError("bow_mlp: apply(train=True) with dropout needs a `key`")
        k_in, k_mid, k_head = jax.random.split(key, 3) if key is not None else (None, None, None)
        ids, values = sparse_bag(token_ids(tokens_BxT, vocab_size, bigram_buckets, trigram_buckets),
                                 weighting, weights_V)
        values = _dropout(values, input_dropout, k_in, train)
        z = jnp.einsum("bl,blh->bh", values, params["kernel"][ids]) + params["bias"][None, :]
        if head is None:
            return z
        return head.apply(params["head"], _dropout(act(z), dropout, k_mid, train), key=k_head, train=train)

    hparams = dict(vocab_size=vocab_size, hidden=hidden, weighting=weighting, bigram_buckets=bigram_buckets,
                   trigram_buckets=trigram_buckets, activation=activation, dropout=dropout,
                   input_dropout=input_dropout, kernel_init=kernel_init)
    return PureModel("bow_mlp", hparams, (max_len,), init, apply)


def random_embeddings(num_ids: int, dim: int, seed: int) -> np.ndarray:
    """Fixed N(0, 1/dim) vectors, one per id: the frozen embedding-bag's table."""
    return (np.random.default_rng(seed).normal(size=(num_ids, dim)) / np.sqrt(dim)).astype(np.float32)


def embedding_init(num_ids: int, dim: int, scale: float = 1.0, pretrained_vectors: np.ndarray | None = None):
    """init(key) -> num_ids x dim: N(0, scale^2 / dim) rows, or with `pretrained_vectors`
    (W x dim, W <= num_ids, NaN rows for words without one) those vectors where given and
    N(0, s^2) elsewhere, s the given vectors' standard deviation so no row stands out."""
    if pretrained_vectors is None:
        return lambda key: scale * jax.random.normal(key, (num_ids, dim)) / np.sqrt(dim)
    given = np.asarray(pretrained_vectors, np.float32)
    if given.ndim != 2 or given.shape[1] != dim or len(given) > num_ids:
        raise ValueError(f"pretrained_vectors must be (at most {num_ids}, embed_dim={dim}); got {given.shape}")
    known_W = ~np.isnan(given).any(1)
    if not known_W.any():
        raise ValueError("pretrained_vectors has no vector for any word (every row is NaN)")
    known_V1 = np.zeros((num_ids, 1), bool)
    known_V1[:len(given), 0] = known_W
    table_VxD = np.zeros((num_ids, dim), np.float32)
    table_VxD[:len(given)][known_W] = given[known_W]
    std = float(given[known_W].std())
    return lambda key: jnp.where(known_V1, table_VxD, std * jax.random.normal(key, (num_ids, dim)))


def mean_embedding(table_VxD: jax.Array, ids_BxL: jax.Array) -> jax.Array:
    """Mean of the non-PAD ids' rows (zeros for an empty text)."""
    mask_BxL = (ids_BxL != PAD).astype(table_VxD.dtype)
    summed_BxD = jnp.einsum("bl,bld->bd", mask_BxL, table_VxD[ids_BxL])
    return summed_BxD / jnp.maximum(mask_BxL.sum(1), 1.0)[:, None]


def embedding_bag(max_len: int, num_classes: int, *, vocab_size: int = 20000, embed_dim: int = 64,
                  hidden: Sequence[int] = (), trainable: bool = True, frozen_seed: int = 0,
                  bigram_buckets: int = 0, activation: str = "relu", dropout: float = 0.0,
                  input_dropout: float = 0.0, embed_scale: float = 1.0,
                  pretrained_vectors: np.ndarray | None = None) -> PureModel:
    """Mean of word (and hashed bigram) embeddings -> optional hidden layers -> classes.

    trainable=False keeps the embeddings fixed: at random vectors (seed `frozen_seed`), so
    only the head learns, which shows what learning the embeddings adds; or at
    `pretrained_vectors` (`embedding_init`; words without one random, seed `frozen_seed`).
    """
    _check(max_len, vocab_size, bigram_buckets)
    num_ids = vocab_size + bigram_buckets
    head = mlp.make((embed_dim,), num_classes, hidden=tuple(hidden), activation=activation, dropout=dropout)
    init_embedding = embedding_init(num_ids, embed_dim, embed_scale, pretrained_vectors)
    frozen = None
    if not trainable:
        frozen = (jnp.asarray(random_embeddings(num_ids, embed_dim, frozen_seed)) if pretrained_vectors is None
                  else init_embedding(jax.random.key(frozen_seed)))

    def init(key):
        k_embed, k_head = jax.random.split(key)
        params = {"head": head.init(k_head)}
        if trainable:
            params["embedding"] = init_embedding(k_embed)
        return params

    def apply(params, tokens_BxT, *, key=None, train=False):
        _check_tokens("embedding_bag", tokens_BxT, max_len)
        if train and key is None and (dropout > 0 or input_dropout > 0):
            raise ValueError("embedding_bag: apply(train=True) with dropout needs a `key`")
        k_in, k_head = jax.random.split(key) if key is not None else (None, None)
        table = params["embedding"] if trainable else frozen
        x = mean_embedding(table, token_ids(tokens_BxT, vocab_size, bigram_buckets))
        return head.apply(params["head"], _dropout(x, input_dropout, k_in, train), key=k_head, train=train)

    hparams = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden=tuple(hidden), trainable=trainable,
                   frozen_seed=frozen_seed, bigram_buckets=bigram_buckets, activation=activation,
                   dropout=dropout, input_dropout=input_dropout, embed_scale=embed_scale,
                   pretrained=pretrained_vectors is not None)
    return PureModel("embedding_bag", hparams, (max_len,), init, apply)


POOLS = ("last", "mean", "max")


def pool_states(h_BxTxH: jax.Array, mask_BxT: jax.Array, pool: str) -> jax.Array:
    """The LSTM's states over a text's real tokens: the last one, their mean or their max."""
    if pool == "last":
        last_B = jnp.maximum(mask_BxT.sum(1).astype(jnp.int32) - 1, 0)
        return jnp.take_along_axis(h_BxTxH, last_B[:, None, None], axis=1)[:, 0]
    m = mask_BxT[:, :, None]
    if pool == "mean":
        return (h_BxTxH * m).sum(1) / jnp.maximum(m.sum(1), 1.0)
    return jnp.where(m > 0, h_BxTxH, -jnp.inf).max(1).clip(-1.0, 1.0)  # |h| <= 1; an empty text gives -1


def reverse_real_tokens(x_BxTxD: jax.Array, mask_BxT: jax.Array) -> jax.Array:
    """Each row's first n = mask.sum() positions in reverse order (right padding stays put)."""
    T = x_BxTxD.shape[1]
    n_Bx1 = mask_BxT.sum(1, keepdims=True).astype(jnp.int32)
    t_1xT = jnp.arange(T)[None, :]
    source_BxT = jnp.where(t_1xT < n_Bx1, n_Bx1 - 1 - t_1xT, t_1xT)
    return jnp.take_along_axis(x_BxTxD, source_BxT[:, :, None], axis=1)


def lstm(max_len: int, num_classes: int, *, vocab_size: int = 20000, embed_dim: int = 64, hidden: int = 64,
         layers: int = 1, pool: str = "mean", read_len: int = 0, dropout: float = 0.0, forget_bias: float = 1.0,
         unroll: int = 1, trainable: bool = True, bidirectional: bool = False,
         pretrained_vectors: np.ndarray | None = None) -> PureModel:
    """Word embeddings -> LSTM (`jaxdl.models.rnn`, from matrix algebra) -> pooled states -> classes.

    bidirectional=True adds a second LSTM stack reading each text's real tokens backwards
    (`reverse_real_tokens`) and pools both stacks' states into 2 x hidden features.

    `pretrained_vectors` start the embeddings (`embedding_init`); trainable=False keeps them there
    (words without a vector at fixed random ones).

    Right padding: with pool="last" the state at each text's last token is used, so padding
    after it never reaches the output; "mean"/"max" pool only over real tokens.
    read_len > 0 reads only each text's first `read_len` tokens (long reviews on a CPU).
    """
    _check(max_len, vocab_size, 0)
    if pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; valid: {', '.join(POOLS)}")
    steps = min(read_len, max_len) if read_len > 0 else max_len
    init_embedding = embedding_init(vocab_size, embed_dim, pretrained_vectors=pretrained_vectors)
    frozen = None if trainable else init_embedding(jax.random.key(0))

    directions = 2 if bidirectional else 1
    features = directions * hidden

    def init(key):
        k_embed, k_head, *k_layers = jax.random.split(key, 2 + directions * layers)
        params = {
            "layers": _init_lstm_stack(k_layers[:layers], embed_dim, hidden, forget_bias),
            "out": {"kernel": jax.random.normal(k_head, (features, num_classes)) / np.sqrt(features),
                    "bias": jnp.zeros(num_classes)},
        }
        if bidirectional:
            params["backward_layers"] = _init_lstm_stack(k_layers[layers:], embed_dim, hidden, forget_bias)
        if trainable:
            params["embedding"] = init_embedding(k_embed)
        return params

    def apply(params, tokens_BxT, *, key=None, train=False):
        _check_tokens("lstm", tokens_BxT, max_len)
        if train and key is None and dropout > 0:
            raise ValueError("lstm: apply(train=True) with dropout needs a `key`")
        k_in, k_out = jax.random.split(key) if key is not None else (None, None)
        ids_BxT = token_ids(tokens_BxT[:, :steps], vocab_size)
        table = params["embedding"] if trainable else frozen
        x_BxTxD = _dropout(table[ids_BxT], dropout, k_in, train)
        mask_BxT = (ids_BxT != PAD).astype(x_BxTxD.dtype)
        pooled = _pooled_lstm_states(params, x_BxTxD, mask_BxT, pool, unroll, bidirectional)
        pooled = _dropout(pooled, dropout, k_out, train)
        return pooled @ params["out"]["kernel"] + params["out"]["bias"][None, :]

    hparams = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden=hidden, layers=layers, pool=pool,
                   read_len=read_len, dropout=dropout, forget_bias=forget_bias, unroll=unroll, trainable=trainable,
                   bidirectional=bidirectional, pretrained=pretrained_vectors is not None)
    return PureModel("lstm", hparams, (max_len,), init, apply)


def _init_lstm_stack(keys, embed_dim: int, hidden: int, forget_bias: float) -> list:
    """One LSTM stack's layer params: the first reads embeddings, the rest the layer below."""
    widths = [embed_dim] + [hidden] * len(keys)
    return [rnn.init_layer(k, "lstm", a, hidden, forget_bias=forget_bias) for k, a in zip(keys, widths[:-1])]


def _pooled_lstm_states(params, x_BxTxD: jax.Array, mask_BxT: jax.Array, pool: str, unroll: int,
                        bidirectional: bool) -> jax.Array:
    """The forward stack's pooled states, then (bidirectional) the backward stack's."""
    h_BxTxH, _ = rnn.stack("lstm", params["layers"], x_BxTxD, unroll=unroll)
    pooled = pool_states(h_BxTxH, mask_BxT, pool)
    if bidirectional:
        # Reversed texts keep their real tokens first, so the same mask (and "last") applies.
        back_BxTxH, _ = rnn.stack("lstm", params["backward_layers"], reverse_real_tokens(x_BxTxD, mask_BxT),
                                  unroll=unroll)
        pooled = jnp.concatenate([pooled, pool_states(back_BxTxH, mask_BxT, pool)], axis=1)
    return pooled


def embedding_table(model: PureModel, params) -> np.ndarray:
    """The word vectors a trained text model learned (rows = token ids < vocab_size).

    bow_mlp: the first layer's rows (multi-hot @ W adds up one row per word present).
    """
    table = params.get("embedding", params.get("kernel") if model.name == "bow_mlp" else None)
    if table is None:
        raise ValueError(f"{model.name} has no learned word vectors (frozen embeddings are not learned); "
                         "bow_mlp, and embedding_bag and lstm with trainable=True, have them")
    return np.asarray(table)[: model.hparams["vocab_size"]]
