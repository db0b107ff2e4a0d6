"""Text classifiers over token ids: bag-of-words MLP, embedding bag, LSTM.

Inputs are `tokens_BxT` int32 padded with PAD = 0; UNK = 1 (see `jaxdl.data.text`).
Token ids rank words by their training-split frequency (most frequent first, after
the 4 special ids), so `vocab_size` V keeps the V - 4 most frequent words and maps
every other id to UNK: Chollet's "top 10,000 words" is `vocab_size=10000`.

`bigram_buckets` > 0 adds hashed word pairs (fastText's trick) as extra ids
V .. V + buckets - 1, so a bag can tell "not good" from "good"; `trigram_buckets` > 0
adds hashed word triples after those.

Every model is a PureModel whose params are a plain dict: the feature maps are
written out here and only the dense heads are NNX modules (`jaxdl.models.mlp`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.models import dropout as dropout_lib, inits, mlp, rnn
from jaxdl.models.pure import PureModel

PAD, UNK = 0, 1
WEIGHTINGS = ("binary", "count", "tfidf", "nb")
_HASH_MULTIPLIER = 2654435761  # Knuth's multiplicative hash (golden ratio times 2**32)


def _hash_ngrams(words_BxT: jax.Array, n: int, buckets: int, offset: int) -> jax.Array:
    """Each run of n words (no PAD among them) as offset + hash % buckets, else PAD: B x (T - n + 1)."""
    T = words_BxT.shape[1]
    grams = [words_BxT[:, i:T - n + 1 + i].astype(jnp.uint32) for i in range(n)]
    hashed = grams[0]
    for g in grams[1:]:
        hashed = hashed * jnp.uint32(_HASH_MULTIPLIER) + g
    real = functools.reduce(jnp.logical_and, [g != PAD for g in grams])
    return jnp.where(real, offset + (hashed % jnp.uint32(buckets)).astype(jnp.int32), PAD)


def token_ids(tokens_BxT: jax.Array, vocab_size: int, bigram_buckets: int = 0,
              trigram_buckets: int = 0) -> jax.Array:
    """Ids in [0, vocab_size + bigram_buckets + trigram_buckets): words clipped to the vocabulary,
    then hashed bigrams, then hashed trigrams.

    Returns B x T (words), B x (2T - 1) (words then bigrams) or B x (3T - 3) (with trigrams too);
    PAD (0) marks nothing.
    """
    words = jnp.where(tokens_BxT < vocab_size, tokens_BxT, UNK).astype(jnp.int32)
    words = jnp.where(tokens_BxT == PAD, PAD, words)
    parts = [words]
    if bigram_buckets > 0:
        parts.append(_hash_ngrams(words, 2, bigram_buckets, vocab_size))
    if trigram_buckets > 0:
        parts.append(_hash_ngrams(words, 3, trigram_buckets, vocab_size + bigram_buckets))
    return jnp.concatenate(parts, axis=1) if len(parts) > 1 else words


def counts(ids_BxL: jax.Array, num_ids: int) -> jax.Array:
    """How often each id occurs in each row, PAD's column zeroed: B x num_ids (a scatter, no one-hot)."""
    rows = jnp.arange(ids_BxL.shape[0])[:, None]
    c = jnp.zeros((ids_BxL.shape[0], num_ids)).at[rows, ids_BxL].add(1.0)
    return c.at[:, PAD].set(0.0)


def document_frequencies(tokens_NxT: np.ndarray, weights_N: np.ndarray | None, vocab_size: int,
                         bigram_buckets: int = 0, trigram_buckets: int = 0, chunk: int = 512) -> np.ndarray:
    """Per id, the summed weights of the texts holding it (weights None: the number of texts).

    A chunk of texts at a time as `sparse_bag`'s distinct ids, never a dense N x num_ids bag
    (a million hashed n-gram ids would not fit).
    """
    num_ids = vocab_size + bigram_buckets + trigram_buckets
    distinct_fn = jax.jit(lambda t: sparse_bag(token_ids(t, vocab_size, bigram_buckets, trigram_buckets),
                                               "binary", None))
    weights_N = np.ones(len(tokens_NxT)) if weights_N is None else np.asarray(weights_N, np.float64)
    df = np.zeros(num_ids)
    for start in range(0, len(tokens_NxT), chunk):
        ids, present = (np.asarray(a) for a in distinct_fn(jnp.asarray(tokens_NxT[start:start + chunk])))
        df += np.bincount(ids.ravel(), (present * weights_N[start:start + len(ids), None]).ravel(), num_ids)
    df[PAD] = 0.0
    return df


def inverse_document_frequency(tokens_NxT: np.ndarray, vocab_size: int, bigram_buckets: int = 0,
                               trigram_buckets: int = 0, chunk: int = 512) -> np.ndarray:
    """Smoothed idf (scikit-learn's): log((1 + N) / (1 + df)) + 1 over the given (training) texts."""
    df = document_frequencies(tokens_NxT, None, vocab_size, bigram_buckets, trigram_buckets, chunk)
    return (np.log((1 + len(tokens_NxT)) / (1 + df)) + 1).astype(np.float32)


def log_count_ratio(tokens_NxT: np.ndarray, labels_N: np.ndarray, vocab_size: int, bigram_buckets: int = 0,
                    trigram_buckets: int = 0, alpha: float = 1.0, chunk: int = 512) -> np.ndarray:
    """Wang & Manning's (2012) NB feature weights over the given (training) texts, two classes.

    With p = alpha + the number of positive (label 1) texts holding each id and q the same for
    negative ones, r = log((p / |p|_1) / (q / |q|_1)), the norms over the ids these texts hold:
    ids they never hold (unused vocabulary slots or hash buckets, PAD) get r = 0 and would
    otherwise swamp the norms with alpha's.
    """
    labels_N = np.asarray(labels_N)
    if len(labels_N) != len(tokens_NxT) or not set(np.unique(labels_N).tolist()) <= {0, 1}:
        raise ValueError(f"log_count_ratio needs one 0/1 label per text; got {len(labels_N)} labels "
                         f"with values {np.unique(labels_N)[:10]} for {len(tokens_NxT)} texts")
    if alpha <= 0:
        raise ValueError(f"log_count_ratio needs a smoothing alpha > 0, got {alpha}")
    ngrams = (vocab_size, bigram_buckets, trigram_buckets)
    positive = document_frequencies(tokens_NxT, labels_N == 1, *ngrams, chunk=chunk)
    negative = document_frequencies(tokens_NxT, labels_N == 0, *ngrams, chunk=chunk)
    seen = (positive + negative) > 0
    p, q = alpha + positive[seen], alpha + negative[seen]
    r = np.zeros(len(seen), np.float32)
    r[seen] = np.log(p / p.sum()) - np.log(q / q.sum())
    return r


def bag_of_words(ids_BxL: jax.Array, num_ids: int, weighting: str, id_weights: jax.Array | None) -> jax.Array:
    """The dense B x num_ids bag: the reference `sparse_bag` is tested against.

    binary: Chollet's multi-hot; count: term counts; tfidf: (1 + log tf) * idf, rows L2-normalised
    (scikit-learn's TfidfVectorizer(sublinear_tf=True)); nb: multi-hot * the NB log-count ratio
    (Wang & Manning's NBSVM features). `id_weights` is the idf or the ratio, one per id.
    """
    c = counts(ids_BxL, num_ids)
    if weighting == "binary":
        return jnp.minimum(c, 1.0)
    if weighting == "count":
        return c
    if weighting == "nb":
        return jnp.minimum(c, 1.0) * id_weights[None, :]
    x = jnp.where(c > 0, 1.0 + jnp.log(jnp.maximum(c, 1.0)), 0.0) * id_weights[None, :]
    return x / jnp.maximum(jnp.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def sparse_bag(ids_BxL: jax.Array, weighting: str, id_weights: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    """The bag as (ids, values): each distinct id once with its feature value, other slots value 0.

    `bag @ W` is then `sum_l values[l] * W[ids[l]]`: a gather of L rows instead of a
    B x num_ids matrix times num_ids x H (what makes 100k hashed bigrams affordable).
    """
    L = ids_BxL.shape[1]
    s = jnp.sort(ids_BxL, axis=1)
    starts = jnp.concatenate([jnp.ones_like(s[:, :1], bool), s[:, 1:] != s[:, :-1]], axis=1)
    # Run length of each distinct id: the next run's start minus this one's.
    pos = jnp.broadcast_to(jnp.arange(L), s.shape)
    start_pos = jnp.where(starts, pos, L)
    next_start = jnp.concatenate([jax.lax.cummin(start_pos[:, ::-1], axis=1)[:, ::-1][:, 1:],
                                  jnp.full_like(s[:, :1], L)], axis=1)
    c = jnp.where(starts & (s != PAD), next_start - pos, 0).astype(jnp.float32)
    if weighting == "binary":
        return s, jnp.minimum(c, 1.0)
    if weighting == "count":
        return s, c
    if weighting == "nb":
        return s, jnp.minimum(c, 1.0) * id_weights[s]
    v = jnp.where(c > 0, 1.0 + jnp.log(jnp.maximum(c, 1.0)), 0.0) * id_weights[s]
    return s, v / jnp.maximum(jnp.linalg.norm(v, axis=1, keepdims=True), 1e-12)


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
        widths = [embed_dim] + [hidden] * layers

        def stack_params(keys):
            return [rnn.init_layer(k, "lstm", a, hidden, forget_bias=forget_bias) for k, a in zip(keys, widths[:-1])]

        params = {
            "layers": stack_params(k_layers[:layers]),
            "out": {"kernel": jax.random.normal(k_head, (features, num_classes)) / np.sqrt(features),
                    "bias": jnp.zeros(num_classes)},
        }
        if bidirectional:
            params["backward_layers"] = stack_params(k_layers[layers:])
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
        h_BxTxH, _ = rnn.stack("lstm", params["layers"], x_BxTxD, unroll=unroll)
        pooled = pool_states(h_BxTxH, mask_BxT, pool)
        if bidirectional:
            # Reversed texts keep their real tokens first, so the same mask (and "last") applies.
            back_BxTxH, _ = rnn.stack("lstm", params["backward_layers"], reverse_real_tokens(x_BxTxD, mask_BxT),
                                      unroll=unroll)
            pooled = jnp.concatenate([pooled, pool_states(back_BxTxH, mask_BxT, pool)], axis=1)
        pooled = _dropout(pooled, dropout, k_out, train)
        return pooled @ params["out"]["kernel"] + params["out"]["bias"][None, :]

    hparams = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden=hidden, layers=layers, pool=pool,
                   read_len=read_len, dropout=dropout, forget_bias=forget_bias, unroll=unroll, trainable=trainable,
                   bidirectional=bidirectional, pretrained=pretrained_vectors is not None)
    return PureModel("lstm", hparams, (max_len,), init, apply)


def embedding_table(model: PureModel, params) -> np.ndarray:
    """The word vectors a trained text model learned (rows = token ids < vocab_size).

    bow_mlp: the first layer's rows (multi-hot @ W adds up one row per word present).
    """
    table = params.get("embedding", params.get("kernel") if model.name == "bow_mlp" else None)
    if table is None:
        raise ValueError(f"{model.name} has no learned word vectors (frozen embeddings are not learned); "
                         "bow_mlp, and embedding_bag and lstm with trainable=True, have them")
    return np.asarray(table)[: model.hparams["vocab_size"]]
