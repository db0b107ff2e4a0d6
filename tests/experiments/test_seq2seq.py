"""The seq2seq experiments: seq2seq_reverse learns to reverse strings and restores from its workdir."""

import chex
import pytest

from jaxdl import experiments
from jaxdl.runs import saved
from jaxdl.train import loop


@pytest.mark.slow
def test_learns_to_reverse(tmp_path, data_dir):
    config = experiments.get_config("seq2seq_reverse")
    config.data.data_dir = data_dir
    config.train.epochs = 3
    config.train.eval_splits = ("test",)
    config.train.progress_updates_per_epoch = 1  # one chunk per epoch: one scan to compile
    result = loop.train(config, str(tmp_path), live=False)
    assert result.final["test"]["exact_match"] >= 0.9, result.final["test"]
    # A warmup + cosine run restores from its workdir.
    chex.assert_trees_all_equal(saved.restore(str(tmp_path))[2].params, result.state.params)
