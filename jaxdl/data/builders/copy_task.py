"""`copy_task`: synthetic copy pairs from `jaxdl.data.copy_task`, one fixed seed per split."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from jaxdl.data import copy_task
from jaxdl.data.builders import common

_SEEDS = {"train": 0, "validation": 1, "test": 2}


class CopyTask(common.OfflineBuilder):
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    def _info(self) -> tfds.core.DatasetInfo:
        def ids(n):
            return tfds.features.Tensor(shape=(n,), dtype=np.uint8, encoding=tfds.features.Encoding.BYTES)

        return tfds.core.DatasetInfo(
            builder=self,
            description=copy_task.SPECS[0].description,
            features=tfds.features.FeaturesDict(
                {"source": ids(copy_task.MAX_LEN), "target": ids(copy_task.MAX_LEN + 2)}),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        del dl_manager  # nothing to download
        return {split: self._generate_examples(n, _SEEDS[split]) for split, n in copy_task.SIZES.items()}

    def _generate_examples(self, num: int, seed: int) -> Iterator:
        arrays = copy_task.make_examples(num, seed)
        for i in range(num):
            yield i, {"source": arrays["source"][i], "target": arrays["target"][i]}
