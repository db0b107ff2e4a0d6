"""The text experiments: the sentiment LSTM, TF-IDF bag-of-words and NB bag-of-words models each train a step."""

import numpy as np
import pytest

from jaxdl.train import loop
from tests.helpers import experiment_config_or_skip


@pytest.mark.slow
def test_sentiment_lstm_tfidf_and_nb_bow_train_a_step(tmp_path, data_dir):
    for name, overrides in (("sentiment_lstm", ()), ("sentiment_bow", ("model.weighting=tfidf",)),
                            ("sentiment_nb_bow", ("model.trigram_buckets=1000",))):
        config = experiment_config_or_skip(data_dir, name, "data.max_train_examples=256", "train.num_steps=4",
                                           "train.eval_splits=('validation',)", *overrides)
        result = loop.train(config, str(tmp_path / name), live=False)
        assert np.isfinite(result.final["validation"]["loss"])
