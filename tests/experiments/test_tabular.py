"""The tabular experiments: diamonds_embeddings learns the log price."""

import math

import pytest

from jaxdl import config as config_lib, experiments
from jaxdl.train import loop


def _train(name, tmp_path, data_dir, *overrides):
    config = config_lib.apply_overrides(experiments.get_config(name), [
        f"data.data_dir={data_dir}", "train.epochs=2", "train.progress_updates_per_epoch=1", *overrides])
    return loop.train(config, str(tmp_path / name), live=False)


@pytest.mark.slow
def test_diamonds_embedding_mlp_learns_log_price(tmp_path, data_dir):
    result = _train("diamonds_embeddings", tmp_path, data_dir, "data.batch_size=256")
    # The log price has a standard deviation of about 1.0: two epochs must explain most of it.
    assert result.final["test"]["rmse"] < 0.3
    assert math.isfinite(result.final["validation"]["mae"])
