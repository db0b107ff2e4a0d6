"""End to end: the regression task trains MovieLens MF, the split model and the diamonds MLP."""
import json
import math
import os

import numpy as np
import pytest

from jaxdl import config as config_lib, data, experiments
from jaxdl.studies import variants as compare_runs
from jaxdl.train import loop


def _train(name, tmp_path, data_dir, *overrides):
    config = config_lib.apply_overrides(experiments.get_config(name), [
        f"data.data_dir={data_dir}", "train.epochs=2", "train.progress_updates_per_epoch=1", *overrides])
    return loop.train(config, str(tmp_path / name), live=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["movielens_mf", "movielens_deep"])
def test_cf_experiments_learn_and_keep_the_best_validation_epoch(name, tmp_path, data_dir):
    result = _train(name, tmp_path, data_dir, "data.max_train_examples=20000", "data.batch_size=500")
    # Two short epochs on a quarter of the ratings already beat predicting the mean rating.
    validation = data.load_arrays("movielens_small", "validation", data_dir=data_dir)["y"]
    constant = float(np.sqrt(np.mean((validation - 3.5431) ** 2)))
    assert result.final["validation"]["rmse"] < constant - 0.03
    assert result.best["monitor"] == "rmse" and result.best["epoch"] in (1, 2)
    records = [json.loads(line) for line in open(tmp_path / name / "metrics.jsonl")]
    assert {"rmse", "mae", "count"} <= set(next(r for r in records if r["split"] == "validation"))
    assert os.path.isdir(tmp_path / name / "best")


@pytest.mark.slow
def test_diamonds_embedding_mlp_learns_log_price(tmp_path, data_dir):
    result = _train("diamonds_embeddings", tmp_path, data_dir, "data.batch_size=256")
    # The log price has a standard deviation of about 1.0: two epochs must explain most of it.
    assert result.final["test"]["rmse"] < 0.3
    assert math.isfinite(result.final["validation"]["mae"])


@pytest.mark.slow
def test_compare_runs_each_variant_and_tabulates(tmp_path, data_dir):
    rows = compare_runs.run("movielens_mf", {"gd": ["optimizer.name=sgd_scratch", "optimizer.learning_rate=10.0"],
                                        "adagrad": ["optimizer.name=adagrad_scratch",
                                                    "optimizer.learning_rate=0.1"]},
                       str(tmp_path), [f"data.data_dir={data_dir}", "train.epochs=1",
                                       "data.max_train_examples=10000", "data.batch_size=1000"])
    text = compare_runs.table(rows, "rmse")
    assert [r["label"] for r in rows] == ["gd", "adagrad"]
    assert "| gd |" in text and "| adagrad |" in text
    assert rows[0]["best"]["validation"]["rmse"] != rows[1]["best"]["validation"]["rmse"]
