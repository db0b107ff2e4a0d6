"""End-to-end runs of the text and graph experiments: they learn, and their figures and
word neighbours come out of the workdir."""

import os

import numpy as np
import pytest

from jaxdl import cli, config as config_lib, data, experiments
from jaxdl.train import loop


def _config(data_dir, name, *overrides):
    ok, why = data.availability(experiments.get_config(name).data.name)
    if not ok:
        pytest.skip(why)
    return config_lib.apply_overrides(experiments.get_config(name), [f"data.data_dir={data_dir}", *overrides])


@pytest.mark.slow
def test_karate_gcn_from_two_labelled_leaders_misplaces_at_most_one_member(tmp_path, data_dir):
    result = loop.train(_config(data_dir, "karate_gcn"), str(tmp_path / "karate"), live=False)
    assert result.final["test"]["count"] == 32
    assert result.final["test"]["correct"] >= 31
    from jaxdl.figures import embeddings as embedding_figures
    assert os.path.getsize(embedding_figures.node_embeddings(str(tmp_path / "karate"))) > 10_000


@pytest.mark.slow
def test_karate_gcn_dense_reference_trains_to_the_same_params(tmp_path, data_dir):
    overrides = ("train.epochs=20", "train.eval_every_epochs=20")
    a = loop.train(_config(data_dir, "karate_gcn", *overrides), str(tmp_path / "a"), live=False)
    b = loop.train(_config(data_dir, "karate_gcn", *overrides, "model.propagation=dense"), str(tmp_path / "b"),
                   live=False)
    np.testing.assert_allclose(a.final["test"]["loss"], b.final["test"]["loss"], rtol=1e-4)


@pytest.mark.slow
def test_sentiment_bow_learns_and_its_word_vectors_have_neighbours(tmp_path, data_dir, capsys):
    workdir = str(tmp_path / "bow")
    config = _config(data_dir, "sentiment_bow", "data.max_train_examples=3000", "train.epochs=3")
    result = loop.train(config, workdir, live=False)
    assert result.best["evals"]["validation"]["accuracy"] > 0.65  # majority class: 0.58
    cli.main(["neighbours", "--workdir", workdir, "good", "--k", "5"])
    lines = capsys.readouterr().out.strip().splitlines()[-5:]
    sims = [float(line.split()[0]) for line in lines]
    assert len(lines) == 5 and sims == sorted(sims, reverse=True) and all(-1 <= s <= 1 for s in sims)
    assert "good" not in [line.split()[1] for line in lines]
    cli.main(["plot", "--workdir", workdir, "--figure", "word_pca", "--words", "good", "bad", "great", "awful"])
    assert os.path.getsize(os.path.join(workdir, "word_pca.png")) > 5_000


@pytest.mark.slow
def test_sentiment_lstm_tfidf_and_nb_bow_train_a_step(tmp_path, data_dir):
    for name, overrides in (("sentiment_lstm", ()), ("sentiment_bow", ("model.weighting=tfidf",)),
                            ("sentiment_nb_bow", ("model.trigram_buckets=1000",))):
        config = _config(data_dir, name, "data.max_train_examples=256", "train.num_steps=4",
                         "train.eval_splits=('validation',)", *overrides)
        result = loop.train(config, str(tmp_path / name), live=False)
        assert np.isfinite(result.final["validation"]["loss"])


@pytest.mark.slow
def test_tfidf_logistic_regression_baseline_runs_on_the_same_splits(data_dir):
    pytest.importorskip("sklearn")
    from jaxdl.studies import text_baselines
    ok, why = data.availability("pang_lee")
    if not ok:
        pytest.skip(why)
    row = text_baselines.tfidf_logreg("pang_lee", data_dir, ngram_ranges=((1, 1),), cs=(10.0,))
    assert row["test_accuracy"] > 0.8 and row["C"] == 10.0


@pytest.mark.slow
def test_nb_ratio_is_computed_on_the_training_split_only(data_dir, monkeypatch):
    from jaxdl import models
    from jaxdl.models import text_features
    from jaxdl.tasks import text_classification

    config = _config(data_dir, "sentiment_nb_bow", "data.name=pang_lee", "model.bigram_buckets=0")
    built, bow_mlp = {}, models.MODELS["text_classification/bow_mlp"]
    monkeypatch.setitem(models.MODELS, "text_classification/bow_mlp",
                        lambda *a, **kw: built.update(kw) or bow_mlp(*a, **kw))
    text_classification.build_model(config)
    ratio = {split: text_features.log_count_ratio(arrays["tokens"], arrays["label"], config.model.vocab_size)
             for split in ("train", "validation") for arrays in [data.load_arrays("pang_lee", split, data_dir)]}
    np.testing.assert_array_equal(built["nb_ratio"], ratio["train"])
    assert not np.allclose(ratio["train"], ratio["validation"])
