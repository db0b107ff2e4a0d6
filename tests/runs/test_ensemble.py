"""`jaxdl.runs.ensemble`: equal-weight means of trained runs' probabilities or predictions."""

import json

import numpy as np
import pytest

from jaxdl import cli
from jaxdl.data import glove
from jaxdl.runs import ensemble
from jaxdl.studies import ensemble as study
from tests.helpers import write_glove_tarball

LABELS = np.asarray([0, 1, 1, 0])
# Each member gets 3 of 4 right; their mean gets all 4 (member a is unsure where b is sure).
A = np.asarray([[0.9, 0.1], [0.2, 0.8], [0.55, 0.45], [0.6, 0.4]])
B = np.asarray([[0.7, 0.3], [0.45, 0.55], [0.1, 0.9], [0.4, 0.6]])


def test_the_mean_probability_decides_and_members_are_reported(monkeypatch):
    table = {"a": (A, LABELS, "rt", "classification"), "b": (B, LABELS, "rt", "classification")}
    monkeypatch.setattr(ensemble, "member_outputs", lambda w, splits: {s: table[w] for s in splits})
    r = ensemble.evaluate(["a", "b"], ("test",))["test"]
    assert (r["accuracy"], r["correct"], r["count"]) == (1.0, 4, 4)
    assert [m["accuracy"] for m in r["members"]] == [0.75, 0.75]


def test_a_regression_ensemble_scores_the_mean_prediction(monkeypatch):
    y = np.asarray([1.0, 2.0, 3.0])
    p, q = np.asarray([[1.2], [2.2], [2.6]]), np.asarray([[0.8], [2.0], [3.2]])
    table = {"p": (p, y, "diamonds", "regression"), "q": (q, y, "diamonds", "regression")}
    monkeypatch.setattr(ensemble, "member_outputs", lambda w, splits: {s: table[w] for s in splits})
    r = ensemble.evaluate(["p", "q"], ("validation",))["validation"]
    err = (p + q)[:, 0] / 2 - y
    np.testing.assert_allclose(r["rmse"], np.sqrt(np.mean(err ** 2)))
    np.testing.assert_allclose(r["mae"], np.mean(np.abs(err)))
    np.testing.assert_allclose(r["members"][0]["rmse"], np.sqrt(np.mean((p[:, 0] - y) ** 2)))
    assert r["rmse"] < min(m["rmse"] for m in r["members"])


def test_members_that_do_not_line_up_are_refused(monkeypatch):
    table = {"a": (A, LABELS, "rt", "classification"), "other_data": (B, LABELS, "pang_lee", "classification"),
             "shuffled": (B, LABELS[[1, 0, 2, 3]], "rt", "classification")}
    monkeypatch.setattr(ensemble, "member_outputs", lambda w, splits: {s: table[w] for s in splits})
    with pytest.raises(ValueError, match="at least 2 runs"):
        ensemble.evaluate(["a"])
    with pytest.raises(ValueError, match="differ in dataset"):
        ensemble.evaluate(["a", "other_data"])
    with pytest.raises(ValueError, match="do not line up"):
        ensemble.evaluate(["a", "shuffled"])


@pytest.mark.slow
def test_trained_members_average_to_the_ensemble(tmp_path, data_dir, capsys):
    from jaxdl import data

    if not data.availability("diamonds")[0]:
        pytest.skip(data.availability("diamonds")[1])
    overrides = [f"data.data_dir={data_dir}", "train.num_steps=30", "train.eval_every_epochs=1"]
    runs = study.train_seeds("diamonds_embeddings", 2, str(tmp_path), overrides)
    assert runs == [str(tmp_path / "seed0"), str(tmp_path / "seed1")]
    outputs = [ensemble.member_outputs(w, ("test",))["test"] for w in runs]
    assert outputs[0][3] == "regression" and outputs[0][0].shape == (10_788, 1)
    assert not np.allclose(outputs[0][0], outputs[1][0])  # different seeds, different members
    mean = (outputs[0][0] + outputs[1][0])[:, 0] / 2
    r = ensemble.evaluate(runs, ("test",))["test"]
    np.testing.assert_allclose(r["rmse"], np.sqrt(np.mean((mean - outputs[0][1]) ** 2)), rtol=1e-5)
    # A member's own score is the one its run logged for the state it kept (best validation rmse).
    records = [json.loads(line) for line in open(tmp_path / "seed0" / "metrics.jsonl")]
    best = min((r for r in records if r["split"] == "validation"), key=lambda r: r["rmse"])
    logged = next(r["rmse"] for r in records if r["split"] == "test" and r["step"] == best["step"])
    np.testing.assert_allclose(r["members"][0]["rmse"], logged, rtol=1e-4)
    assert cli.main(["ensemble", *runs, "--splits", "test"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("ensemble of 2 test: rmse ")


@pytest.mark.slow
def test_a_glove_lstm_trains_and_ensembles_with_nb_lr(tmp_path, monkeypatch, data_dir):
    from jaxdl import config as config_lib, data, experiments
    from jaxdl.runs import ensemble
    from jaxdl.train import loop

    if not data.availability("pang_lee_open")[0]:
        pytest.skip(data.availability("pang_lee_open")[1])
    monkeypatch.setenv(glove.TARBALL_ENV, str(write_glove_tarball(tmp_path / glove.TARBALL_NAME)))
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
