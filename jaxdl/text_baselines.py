"""TF-IDF + logistic regression on the same sentiment splits as jaxdl's classifiers (scikit-learn).

`python -m jaxdl.text_baselines rotten_tomatoes pang_lee --split-seeds 0 1 2 3 4` tunes the
n-gram range and C on each split's validation set, refits on train and reports test
accuracy: the linear bag-of-words line the neural classifiers are measured against.
Needs the `baselines` extra (pip install 'jaxdl[baselines]').
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m jaxdl.text_baselines", description=__doc__.splitlines()[0])
    p.add_argument("corpora", nargs="+", choices=("rotten_tomatoes", "pang_lee"))
    p.add_argument("--split-seeds", type=int, nargs="+", default=list(sentiment.SPLIT_SEEDS))
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    for corpus in args.corpora:
        rows = []
        for seed in args.split_seeds:
            t = time.time()
            rows.append(tfidf_logreg(sentiment.spec_name(corpus, seed), args.data_dir))
            print(json.dumps({**rows[-1], "seconds": round(time.time() - t, 1)}), flush=True)
        acc = [r["test_accuracy"] for r in rows]
        print(f"{corpus}: TF-IDF + logistic regression test accuracy {np.mean(acc):.4f} +- {np.std(acc):.4f} "
              f"over split seeds {args.split_seeds}", flush=True)


if __name__ == "__main__":
    main()
