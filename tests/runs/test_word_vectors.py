"""Word vectors of a trained text classifier: nearest neighbours by cosine similarity, the 2-D PCA plot."""

import os

import pytest

from jaxdl import cli
from jaxdl.train import loop
from tests.helpers import experiment_config_or_skip


@pytest.mark.slow
def test_sentiment_bow_learns_and_its_word_vectors_have_neighbours(tmp_path, data_dir, capsys):
    workdir = str(tmp_path / "bow")
    config = experiment_config_or_skip(data_dir, "sentiment_bow", "data.max_train_examples=3000", "train.epochs=3")
    result = loop.train(config, workdir, live=False)
    assert result.best["evals"]["validation"]["accuracy"] > 0.65  # majority class: 0.58
    cli.main(["neighbours", "--workdir", workdir, "good", "--k", "5"])
    lines = capsys.readouterr().out.strip().splitlines()[-5:]
    sims = [float(line.split()[0]) for line in lines]
    assert len(lines) == 5 and sims == sorted(sims, reverse=True) and all(-1 <= s <= 1 for s in sims)
    assert "good" not in [line.split()[1] for line in lines]
    cli.main(["plot", "--workdir", workdir, "--figure", "word_pca", "--words", "good", "bad", "great", "awful"])
    assert os.path.getsize(os.path.join(workdir, "word_pca.png")) > 5_000
