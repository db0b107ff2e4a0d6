"""The text classification task: building its model from the config (pretrained vectors, the NB ratio)."""

import jax
import numpy as np
import pytest

from jaxdl.data import glove
from tests.helpers import GLOVE_WORDS, glove_vector, write_glove_tarball


def test_experiment_config_looks_up_its_vocabulary_and_checks_the_width(tmp_path, monkeypatch, data_dir):
    from jaxdl import config as config_lib, data, experiments
    from jaxdl.data import sentiment
    from jaxdl.tasks import text_classification

    if not data.availability("pang_lee")[0]:
        pytest.skip(data.availability("pang_lee")[1])
    monkeypatch.setenv(glove.TARBALL_ENV, str(write_glove_tarball(tmp_path / glove.TARBALL_NAME)))
    config = config_lib.apply_overrides(experiments.get_config("sentiment_lstm_glove"),
                                        ["data.name=pang_lee", f"data.data_dir={data_dir}"])
    model = text_classification.build_model(config)
    table = np.asarray(model.init(jax.random.key(0))["embedding"])
    vocab = sentiment.vocabulary("pang_lee", data_dir)
    for i, word in enumerate(GLOVE_WORDS):
        np.testing.assert_array_equal(table[vocab.index(word)], np.float32(glove_vector(i)))
    with pytest.raises(ValueError, match="set model.embed_dim=100"):
        text_classification.build_model(config_lib.apply_overrides(config, ["model.embed_dim=64"]))
    with pytest.raises(ValueError, match="unknown pretrained vectors 'word2vec'; valid: glove_6b_100d"):
        text_classification.build_model(config_lib.apply_overrides(config, ["model.pretrained=word2vec"]))
