"""The graph experiments: karate_gcn, from two labelled leaders, places all but at most one member."""

import os

import pytest

from jaxdl.train import loop
from tests.helpers import experiment_config_or_skip


@pytest.mark.slow
def test_karate_gcn_from_two_labelled_leaders_misplaces_at_most_one_member(tmp_path, data_dir):
    result = loop.train(experiment_config_or_skip(data_dir, "karate_gcn"), str(tmp_path / "karate"), live=False)
    assert result.final["test"]["count"] == 32
    assert result.final["test"]["correct"] >= 31
    from jaxdl.figures import embeddings as embedding_figures
    assert os.path.getsize(embedding_figures.node_embeddings(str(tmp_path / "karate"))) > 10_000
