"""The text classification task: building its model from the config (pretrained vectors, the NB ratio)."""

import jax
import numpy as np
import pytest

from jaxdl import config as config_lib, data, experiments, models
from jaxdl.data import glove, sentiment
from jaxdl.models import text_features
from jaxdl.tasks import text_classification
from tests.helpers import GLOVE_WORDS, experiment_config_or_skip, glove_vector, write_glove_tarball


def test_experiment_config_looks_up_its_vocabulary_and_checks_the_width(tmp_path, monkeypatch, data_dir):
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


@pytest.mark.slow
def test_nb_ratio_is_computed_on_the_training_split_only(data_dir, monkeypatch):
    config = experiment_config_or_skip(data_dir, "sentiment_nb_bow", "data.name=pang_lee", "model.bigram_buckets=0")
    built, bow_mlp = {}, models.MODELS["text_classification/bow_mlp"]
    monkeypatch.setitem(models.MODELS, "text_classification/bow_mlp",
                        lambda *a, **kw: built.update(kw) or bow_mlp(*a, **kw))
    text_classification.build_model(config)
    ratio = {split: text_features.log_count_ratio(arrays["tokens"], arrays["label"], config.model.vocab_size)
             for split in ("train", "validation") for arrays in [data.load_arrays("pang_lee", split, data_dir)]}
    np.testing.assert_array_equal(built["nb_ratio"], ratio["train"])
    assert not np.allclose(ratio["train"], ratio["validation"])
