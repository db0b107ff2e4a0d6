"""The diamonds dataset: documented counts, category codes, numeric columns standardised on train, seeded split."""

import numpy as np
import pandas as pd

from jaxdl import data
from jaxdl.data import diamonds
from jaxdl.data.builders import movielens_small as ml_builder

SPLITS = ("train", "validation", "test")


def test_diamonds_documented_counts_codes_and_train_standardised(data_dir):
    arrays = {s: data.load_arrays("diamonds", s, data_dir=data_dir) for s in SPLITS}
    assert {s: len(a["y"]) for s, a in arrays.items()} == diamonds.COUNTS
    train = arrays["train"]
    np.testing.assert_allclose(train["numeric"].mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(train["numeric"].std(0), 1.0, atol=1e-4)
    assert abs(train["y"].mean() - diamonds.DIAMONDS.meta["train_mean"]) < 1e-3
    for s in SPLITS:
        assert (arrays[s]["categorical"].max(0) < np.array(diamonds.DIAMONDS.meta["cardinalities"])).all()
    # The split is the seeded permutation of the table's rows: log prices match row for row.
    table = pd.read_pickle(diamonds.DIAMONDS.locate(), compression="xz")
    rows = ml_builder.random_split(len(table))
    for s in SPLITS:
        np.testing.assert_allclose(np.sort(arrays[s]["y"]), np.sort(np.log(table["price"].to_numpy()[rows[s]])),
                                   rtol=1e-6)
