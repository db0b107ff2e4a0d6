"""What jaxdl's offline builders share: their log lines, and the 28x28 image datasets' features."""
from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from jaxdl.data import registry


class OfflineBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A builder that reads local files only. It says so: TFDS's own lines ("Downloading and
    preparing dataset ...") read as network access."""

    def _log_download_bytes(self) -> None:
        print(f"jaxdl: preparing offline dataset {self._full_name()} {self._local_source()} in {self.data_dir}",
              flush=True)

    def _log_download_done(self) -> None:
        print(f"jaxdl: offline dataset {self._full_name()} ready in {self.data_dir}", flush=True)

    def _full_name(self) -> str:
        return f"{self.name}/{self.builder_config.name}" if self.builder_config else self.name

    def _local_source(self) -> str:
        """"from" the file or folder this builder reads (what the registered spec's `locate` finds)."""
        sources = {str(spec.locate()) for spec in registry.DATASETS.values()
                   if spec.offline and spec.locate is not None and spec.tfds_name == self._full_name()}
        return f"from {', '.join(sorted(sources))}" if sources else "(generated here)"


def image_classification_info(builder: tfds.core.DatasetBuilder, name: str, homepage: str) -> tfds.core.DatasetInfo:
    spec = registry.DATASETS[name]
    # Plain uint8 tensors, not tfds Image: Image encodes PNGs through TensorFlow.
    return tfds.core.DatasetInfo(
        builder=builder,
        description=spec.description,
        features=tfds.features.FeaturesDict(
            {
                # Raw bytes: the default stores each pixel as an int64 varint, which
                # makes generating and reading several times slower.
                "image": tfds.features.Tensor(
                    shape=spec.image_shape, dtype=np.uint8, encoding=tfds.features.Encoding.BYTES
                ),
                "label": tfds.features.ClassLabel(num_classes=spec.num_classes),
            }
        ),
        supervised_keys=("image", "label"),
        homepage=homepage,
    )
