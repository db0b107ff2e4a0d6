"""Text features for the bag models: token ids -> vocabulary ids and hashed n-grams -> weighted bags.

Inputs are `tokens_BxT` int32 padded with PAD = 0; UNK = 1 (see `jaxdl.data.text`).
Token ids rank words by their training-split frequency (most frequent first, after
the 4 special ids), so `vocab_size` V keeps the V - 4 most frequent words and maps
every other id to UNK: Chollet's "top 10,000 words" is `vocab_size=10000`.

`bigram_buckets` > 0 adds hashed word pairs (fastText's trick) as extra ids
V .. V + buckets - 1, so a bag can tell "not good" from "good"; `trigram_buckets` > 0
adds hashed word triples after those. A bag weighs each id present: binary, count,
tf-idf or the NB log-count ratio (the statistics come from the training split).

`token_ids` and the bags run inside the text models' jitted `apply`; the id weights
(`inverse_document_frequency`, `log_count_ratio`) are numpy statistics of the training
texts, computed once when a model is built. None of it has parameters.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.data.text import PAD, UNK

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
