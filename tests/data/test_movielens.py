"""MovieLens: documented counts, disjoint reproducible splits, id maps; TFDS movielens records."""

import numpy as np
import pandas as pd

from jaxdl import data
from jaxdl.data import movielens
from jaxdl.data.builders import movielens_small as ml_builder

SPLITS = ("train", "validation", "test")


def _pairs(arrays):
    return {(int(u), int(m)) for u, m in arrays["x"]}


def test_split_rows_are_a_seeded_partition():
    a, b = ml_builder.random_split(1000), ml_builder.random_split(1000)
    for split in SPLITS:
        np.testing.assert_array_equal(a[split], b[split])
    rows = np.concatenate([a[s] for s in SPLITS])
    assert sorted(rows.tolist()) == list(range(1000))  # disjoint and complete
    assert [len(a[s]) for s in SPLITS] == [720, 80, 200]
    assert not np.array_equal(a["test"], np.arange(800, 1000))  # shuffled, not the file's tail


def test_time_split_puts_the_latest_ratings_in_test():
    times = np.random.default_rng(1).permutation(1000)
    rows = ml_builder.time_split(times)
    assert times[rows["train"]].max() < times[rows["validation"]].min()
    assert times[rows["validation"]].max() < times[rows["test"]].min()


def test_movielens_small_documented_counts_disjoint_and_as_seeded(data_dir):
    arrays = {s: data.load_arrays("movielens_small", s, data_dir=data_dir) for s in SPLITS}
    assert {s: len(a["y"]) for s, a in arrays.items()} == movielens.COUNTS
    pairs = {s: _pairs(a) for s, a in arrays.items()}
    assert sum(map(len, pairs.values())) == movielens.NUM_RATINGS  # (user, movie) is unique per rating
    assert pairs["train"].isdisjoint(pairs["test"]) and pairs["validation"].isdisjoint(pairs["test"])
    assert pairs["train"].isdisjoint(pairs["validation"])
    # Reproducible: the built test split is exactly the seeded permutation's rows of the table.
    table = pd.read_pickle(movielens.MOVIELENS_SMALL.locate(), compression="xz")
    maps = ml_builder.id_maps(data_dir=data_dir)
    test_rows = ml_builder.random_split(len(table))["test"]
    users = np.searchsorted(maps["user_ids"], table["userId"].to_numpy()[test_rows])
    movies = np.searchsorted(maps["movie_ids"], table["movieId"].to_numpy()[test_rows])
    want = {(int(u), int(m)) for u, m in zip(users, movies)}
    assert pairs["test"] == want
    meta = movielens.MOVIELENS_SMALL.meta
    assert (len(maps["user_ids"]), len(maps["movie_ids"])) == (meta["num_users"], meta["num_items"])
    assert abs(arrays["train"]["y"].mean() - meta["train_mean"]) < 1e-4
    assert abs(maps["train_mean"] - meta["train_mean"]) < 1e-4
    refit = data.load_arrays("movielens_small_refit", "train", data_dir=data_dir)
    assert _pairs(refit) == pairs["train"] | pairs["validation"]


def test_tfds_movielens_records_decode_to_the_same_arrays():
    """TFDS movielens/100k-ratings stores ids as byte strings of numbers."""
    records = [{"user_id": b"196", "movie_id": b"242", "user_rating": 3.0, "timestamp": 881250949},
               {"user_id": b"1", "movie_id": b"1682", "user_rating": 5.0, "timestamp": 1}]
    arrays = data.get_spec("movielens_100k").decode(records)
    np.testing.assert_array_equal(arrays["x"], [[196, 242], [1, 1682]])
    meta = data.get_spec("movielens_100k").meta
    assert arrays["x"][:, 0].max() < meta["num_users"] and arrays["x"][:, 1].max() < meta["num_items"]
    np.testing.assert_array_equal(arrays["y"], np.array([3.0, 5.0], np.float32))
