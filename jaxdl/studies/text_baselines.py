"""TF-IDF + logistic regression on the same sentiment splits as jaxdl's classifiers (scikit-learn).

`jaxdl baseline text rotten_tomatoes pang_lee --split-seeds 0 1 2 3 4` tunes the
n-gram range and C on each split's validation set, refits on train and reports test
accuracy: the linear bag-of-words line the neural classifiers are measured against.
Needs the `baselines` extra (pip install 'jaxdl[baselines]').
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence

import numpy as np

from jaxdl import data
from jaxdl.data import sentiment

NGRAM_RANGES = ((1, 1), (1, 2))
CS = (1.0, 3.0, 10.0, 30.0, 100.0)


def texts_and_labels(name: str, split: str, data_dir: str | None) -> tuple[list[str], np.ndarray]:
    """The raw review texts of a jaxdl sentiment split (the builder keeps them beside the ids)."""
    src = data.source(name, split, data_dir)
    records = src.__getitems__(list(range(len(src))))
    return [r["text"].decode() for r in records], np.asarray([r["label"] for r in records])


def tfidf_logreg(name: str, data_dir: str | None = None, ngram_ranges=NGRAM_RANGES, cs=CS) -> dict:
    """Grid over (n-gram range, C) chosen on validation accuracy; test accuracy of the chosen one."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    splits = {s: texts_and_labels(name, s, data_dir) for s in ("train", "validation", "test")}
    best = None
    for ngrams, c in itertools.product(ngram_ranges, cs):
        vec = TfidfVectorizer(ngram_range=ngrams, sublinear_tf=True)
        x_train = vec.fit_transform(splits["train"][0])  # vocabulary and idf from train only
        clf = LogisticRegression(C=c, max_iter=5000).fit(x_train, splits["train"][1])
        val = float((clf.predict(vec.transform(splits["validation"][0])) == splits["validation"][1]).mean())
        if best is None or val > best["validation_accuracy"]:
            test = float((clf.predict(vec.transform(splits["test"][0])) == splits["test"][1]).mean())
            best = {"dataset": name, "ngram_range": list(ngrams), "C": c, "validation_accuracy": val,
                    "test_accuracy": test}
    return best


def report(corpora: Sequence[str], *, split_seeds: Sequence[int] | None = None,
           data_dir: str | None = None) -> str:
    """What `jaxdl baseline text` prints: per split seed a JSON row (printed as it finishes), then the means."""
    split_seeds = list(split_seeds or sentiment.SPLIT_SEEDS)
    unknown = [c for c in corpora if c not in sentiment.CORPORA]
    if unknown or not corpora:
        raise ValueError(f"corpora {list(corpora)}: valid are {', '.join(sentiment.CORPORA)}")
    lines = []
    for corpus in corpora:
        rows = []
        for seed in split_seeds:
            t = time.time()
            rows.append(tfidf_logreg(sentiment.spec_name(corpus, seed), data_dir))
            print(json.dumps({**rows[-1], "seconds": round(time.time() - t, 1)}), flush=True)
        acc = [r["test_accuracy"] for r in rows]
        lines.append(f"{corpus}: TF-IDF + logistic regression test accuracy {np.mean(acc):.4f} +- {np.std(acc):.4f} "
                     f"over split seeds {list(split_seeds)}")
    return "\n".join(lines)
