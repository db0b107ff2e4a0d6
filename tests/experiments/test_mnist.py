"""The MNIST experiments reach the accuracies measured for them (Nielsen's chapter 1 network, the Keras CNN)."""

import pytest

from jaxdl.train import workdir as wd
from tests.helpers import experiment_config, train_run


@pytest.mark.slow
def test_nielsen_ch1_reports_test_accuracy_each_epoch(tmp_path, data_dir):
    result = train_run(tmp_path, experiment_config(data_dir, "nielsen_ch1", "train.epochs=3"))
    tests = [r for r in wd.read_metrics(str(tmp_path / "run")) if r["split"] == "test"]
    assert [r["epoch"] for r in tests] == [1, 2, 3]
    # Measured 0.690 -> 0.772 -> 0.826 on MNIST-5k (0.895 after the full 30 epochs): quadratic
    # cost on sigmoids learns slowly, as the book shows; a bug leaves it near chance (0.1).
    assert result.final["test"]["accuracy"] > 0.75


@pytest.mark.slow
def test_mnist_cnn_short_run_beats_the_mlp_baseline(tmp_path, data_dir):
    # 5 epochs: measured 0.949 test accuracy (the full 30-epoch default reaches 0.978).
    result = train_run(tmp_path, experiment_config(data_dir, "mnist_cnn", "train.epochs=5"))
    assert result.final["test"]["accuracy"] > 0.93
