"""`fashion_mnist_debian`: Fashion-MNIST from Debian's `dataset-fashion-mnist` IDX files."""
from __future__ import annotations

import gzip
import pathlib
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from jaxdl.data import registry
from jaxdl.data.builders import common

_FILES = {"train": "train", "test": "t10k"}  # TFDS split -> IDX file prefix


def read_idx(path: pathlib.Path) -> np.ndarray:
    """An IDX array of uint8: 2 zero bytes, dtype code 0x08, ndim, big-endian uint32 dims, data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path} is not an uint8 IDX file (header {data[:4]!r})")
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


class FashionMnistDebian(common.OfflineBuilder):
    """Fashion-MNIST (Zalando): 60,000 train and 10,000 test 28x28 grayscale images."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    def _info(self) -> tfds.core.DatasetInfo:
        return common.image_classification_info(self, "fashion_mnist_debian", "https://github.com/zalandoresearch/fashion-mnist")

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        del dl_manager  # everything is local
        folder = registry.offline_source_path("fashion_mnist_debian")
        return {
            split: self._generate_examples(
                read_idx(folder / f"{prefix}-images-idx3-ubyte.gz"),
                read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz"),
            )
            for split, prefix in _FILES.items()
        }

    def _generate_examples(self, images: np.ndarray, labels: np.ndarray) -> Iterator:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        for i, (image, label) in enumerate(zip(images, labels)):  # file position is the key
            yield i, {"image": image[..., None], "label": int(label)}
