"""What jaxdl's 28x28 image builders share."""
from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from jaxdl.data import registry


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
