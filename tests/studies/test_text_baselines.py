"""The scikit-learn text baselines: TF-IDF logistic regression on the same splits."""

import pytest

from jaxdl import data


@pytest.mark.slow
def test_tfidf_logistic_regression_baseline_runs_on_the_same_splits(data_dir):
    pytest.importorskip("sklearn")
    from jaxdl.studies import text_baselines
    ok, why = data.availability("pang_lee")
    if not ok:
        pytest.skip(why)
    row = text_baselines.tfidf_logreg("pang_lee", data_dir, ngram_ranges=((1, 1),), cs=(10.0,))
    assert row["test_accuracy"] > 0.8 and row["C"] == 10.0
