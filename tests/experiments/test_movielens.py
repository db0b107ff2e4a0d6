"""The MovieLens experiments: the regression task trains matrix factorisation and the split model."""

import json
import os

import jax
import numpy as np
import optax
import pytest

from jaxdl import config as config_lib, data, experiments
from jaxdl.train import loop, optimizers


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


def test_playdl_update_is_gd_that_shrinks_the_tables_one_percent_a_step():
    # The notebook's `W -= 0.01 * W + 200 * grad`, from movielens_playdl's optimiser config.
    cfg = experiments.get_config("movielens_playdl").optimizer
    tx = optimizers.make_optimizer(cfg, total_steps=500)
    k1, k2 = jax.random.split(jax.random.key(0))
    params = {"user": {"table": jax.random.normal(k1, (5, 4))}}
    grads = {"user": {"table": jax.random.normal(k2, (5, 4))}}
    state = tx.init(params)
    for _ in range(3):
        updates, state = tx.update(grads, state, params)
        new = optax.apply_updates(params, updates)
        want = params["user"]["table"] - (0.01 * params["user"]["table"] + 200.0 * grads["user"]["table"])
        np.testing.assert_allclose(new["user"]["table"], want, rtol=1e-5, atol=1e-4)
        params = new
