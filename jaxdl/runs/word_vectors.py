"""Word vectors learned by a text classifier: nearest neighbours by cosine similarity and a 2-D PCA plot.

`jaxdl neighbours --workdir DIR good` and `jaxdl plot --workdir DIR --figure word_pca`.
The vectors are the rows of the model's embedding table (embedding_bag, lstm) or of
the bag-of-words MLP's first layer (a 16-d vector per word in Chollet's model).
"""

from __future__ import annotations

import os

import numpy as np

from jaxdl.data import sentiment
from jaxdl.models import text_classifiers
from jaxdl.runs import saved

SENTIMENT_WORDS = ("good", "great", "excellent", "best", "wonderful", "masterpiece", "perfect", "beautiful",
                   "funny", "entertaining", "bad", "worst", "awful", "terrible", "boring", "dull", "stupid",
                   "waste", "mess", "tedious", "mediocre", "poorly", "movie", "film", "the", "and")


def load(workdir: str) -> tuple[list[str], np.ndarray]:
    """(words, vectors W x D) of a trained run: its best-validation state when it kept one."""
    has_best = os.path.isdir(os.path.join(workdir, "best"))
    config, model, params = saved.restore_params(workdir, best=has_best)
    if config.task != "text_classification":
        raise ValueError(f"{workdir} trained task {config.task!r}; word vectors need a text_classification run")
    table = text_classifiers.embedding_table(model, params)
    words = sentiment.vocabulary(config.data.name, config.data.data_dir or None)[: len(table)]
    return words, table[: len(words)]


def cosine_neighbours(table_WxD: np.ndarray, query: int, k: int) -> list[tuple[int, float]]:
    """The k rows most cosine-similar to row `query` (itself excluded), most similar first."""
    unit = table_WxD / np.maximum(np.linalg.norm(table_WxD, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit[query]
    sims[query] = -np.inf
    top = np.argpartition(-sims, min(k, len(sims) - 1))[:k]
    top = top[np.argsort(-sims[top])]
    return [(int(i), float(sims[i])) for i in top]


def neighbours(workdir: str, word: str, k: int = 10) -> list[tuple[str, float]]:
    words, table = load(workdir)
    index = {w: i for i, w in enumerate(words)}
    if word not in index:
        raise ValueError(f"{word!r} is not among the model's {len(words):,} words "
                         f"(its vocabulary keeps the most frequent training words)")
    specials = {i for i, w in enumerate(words) if w.startswith("<") and w.endswith(">")}
    found = cosine_neighbours(table, index[word], k + len(specials))
    return [(words[i], s) for i, s in found if i not in specials][:k]
