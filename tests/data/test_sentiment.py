"""Sentiment TFDS builders: documented counts, disjoint reproducible stratified splits,
train-only vocabulary; IMDB spec through tfds.testing.mock_data."""

import numpy as np
import pytest

from jaxdl import data
from jaxdl.data import sentiment, text
from jaxdl.data.builders import sentiment as sentiment_builder

# Documented in jaxdl.data.sentiment.
COUNTS = {
    "rotten_tomatoes": {"train": 9181, "validation": 1020, "test": 2551},
    "pang_lee": {"train": 1080, "validation": 120, "test": 300},
}


def _available(name):
    ok, why = data.availability(name)
    if not ok:
        pytest.skip(why)


def _texts(name, split, data_dir):
    src = data.source(name, split, data_dir)
    return [r["text"] for r in src.__getitems__(list(range(len(src))))]


@pytest.mark.parametrize("name", list(COUNTS))
def test_counts_are_the_documented_ones(name, data_dir):
    _available(name)
    for split, n in COUNTS[name].items():
        assert len(data.source(name, split, data_dir)) == n, split


@pytest.mark.parametrize("corpus", ["rotten_tomatoes", "pang_lee"])
def test_splits_are_disjoint_stratified_and_differ_by_seed(corpus, data_dir):
    _available(corpus)
    texts = {s: _texts(corpus, s, data_dir) for s in ("train", "validation", "test")}
    assert not set(texts["train"]) & set(texts["test"])
    assert not set(texts["train"]) & set(texts["validation"])
    assert not set(texts["validation"]) & set(texts["test"])
    labels = {s: data.load_arrays(corpus, s, data_dir)["label"] for s in texts}
    rates = [labels[s].mean() for s in labels]
    assert max(rates) - min(rates) < 0.01, rates  # same positive rate in every split
    other = sentiment.spec_name(corpus, 1)
    assert set(_texts(other, "test", data_dir)) != set(texts["test"])


def test_stratified_split_is_reproducible_and_partitions_the_rows():
    labels = np.random.default_rng(0).integers(0, 2, 503)
    a, b = sentiment_builder.stratified_split(labels, 3), sentiment_builder.stratified_split(labels, 3)
    for split in a:
        np.testing.assert_array_equal(a[split], b[split])
    np.testing.assert_array_equal(np.sort(np.concatenate(list(a.values()))), np.arange(503))
    for c in (0, 1):
        n = (labels == c).sum()
        assert (labels[a["test"]] == c).sum() == round(0.2 * n)
    assert not np.array_equal(a["test"], sentiment_builder.stratified_split(labels, 4)["test"])


def test_vocabulary_comes_from_the_training_split_only():
    texts = ["good good film", "bad film", "unseen words here", "good"]
    labels = np.array([1, 0, 1, 0])
    vocab, splits, ids = sentiment_builder.encode_corpus(texts * 5, np.tile(labels, 5), seed=0)
    train_words = {w for i in splits["train"] for w in text.word_tokenize((texts * 5)[i])}
    assert set(vocab.tokens[4:]) == train_words
    for i in splits["test"]:
        for w, t in zip(text.word_tokenize((texts * 5)[i]), ids[i]):
            assert t == (vocab.index[w] if w in train_words else text.UNK)


def test_an_open_vocabulary_appends_the_held_out_words_after_the_train_ones():
    texts = ["good good film", "bad film", "unseen words here", "good"] * 5
    labels = np.tile([1, 0, 1, 0], 5)
    closed, splits, closed_ids = sentiment_builder.encode_corpus(texts, labels, seed=0)
    vocab, open_splits, ids = sentiment_builder.encode_corpus(texts, labels, seed=0, open_vocabulary=True)
    assert vocab.tokens[:len(closed)] == closed.tokens  # train words keep their ids
    assert set(vocab.tokens[len(closed):]) == {w for t in texts for w in text.word_tokenize(t)} - set(closed.tokens)
    for split in splits:
        np.testing.assert_array_equal(splits[split], open_splits[split])
    for i in splits["train"]:
        np.testing.assert_array_equal(ids[i], closed_ids[i])
    assert all((x != text.UNK).all() for x in ids)


def test_the_open_variant_holds_the_same_examples_in_the_same_order(data_dir):
    _available("pang_lee_open")
    for split in ("train", "test"):
        closed, opened = (data.load_arrays(n, split, data_dir) for n in ("pang_lee", "pang_lee_open"))
        np.testing.assert_array_equal(closed["label"], opened["label"])
        assert _texts("pang_lee", split, data_dir) == _texts("pang_lee_open", split, data_dir)
        known = closed["tokens"] != text.UNK
        np.testing.assert_array_equal(closed["tokens"][known], opened["tokens"][known])
    assert (opened["tokens"] != text.UNK).all() and (closed["tokens"] == text.UNK).any()


def test_token_ids_decode_back_to_the_stored_text(data_dir):
    _available("rotten_tomatoes")
    words = sentiment.vocabulary("rotten_tomatoes", data_dir)
    src = data.source("rotten_tomatoes", "train", data_dir)
    r = src[0]
    assert [words[i] for i in r["tokens"]] == text.word_tokenize(r["text"].decode())
    tokens = data.load_arrays("rotten_tomatoes", "train", data_dir, max_examples=3)["tokens"]
    assert tokens.shape == (3, sentiment.MAX_LEN["rotten_tomatoes"]) and tokens.dtype == np.int32


def test_imdb_reviews_spec_reads_tfds_records_with_mock_data(tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    from tensorflow_datasets.testing import mocking

    # As in data/test_images.py: tfds 4.9.10's mock __getitems__ receives the keys as `self`.
    monkeypatch.setattr(
        mocking, "_getitems", lambda keys, generator, serialized=False: [generator[k] for k in keys])
    with tfds.testing.mock_data(num_examples=12):
        arrays = data.load_arrays("imdb_reviews", "train", str(tmp_path))
    assert arrays["tokens"].shape == (12, sentiment.MAX_LEN["imdb_reviews"])
    assert arrays["tokens"].min() >= 0 and arrays["tokens"].max() < sentiment.IMDB_HASH_BUCKETS
    assert set(np.unique(arrays["label"])) <= {0, 1}
    ids = sentiment.hashed_ids("A great, great film")
    assert ids[1] == ids[3] and (ids >= sentiment.NUM_SPECIAL).all()


def test_missing_sources_name_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv(sentiment.PANG_LEE_ENV, str(tmp_path / "absent"))
    with pytest.raises(data.DatasetNotAvailableError,
                       match=f"apt-get install python3-pattern.*or set {sentiment.PANG_LEE_ENV}"):
        sentiment.pang_lee_file()
    monkeypatch.delenv(sentiment.PANG_LEE_ENV)
    monkeypatch.setattr(sentiment, "PATTERN_CORPORA", sentiment.PATTERN_CORPORA / "absent")
    with pytest.raises(data.DatasetNotAvailableError, match="apt-get install python3-pattern"):
        sentiment.pang_lee_file()


def test_pang_lee_is_read_from_the_folder_its_variable_names(tmp_path, monkeypatch):
    (tmp_path / sentiment.PANG_LEE_FILE).write_text("label,text\n")
    monkeypatch.setenv(sentiment.PANG_LEE_ENV, str(tmp_path))
    assert sentiment.pang_lee_file() == tmp_path / sentiment.PANG_LEE_FILE
