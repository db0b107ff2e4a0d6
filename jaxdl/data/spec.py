"""What a dataset is, as jaxdl sees it. Imports nothing heavy: spec modules use only this."""
from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np


class DatasetNotAvailableError(RuntimeError):
    """The dataset's files are not on this machine; the message says how to get them."""


def decode_images(records: Sequence[dict]) -> dict[str, np.ndarray]:
    """Image records -> {"image": float32 (N,H,W,C) in [0,1], "label": int32 (N,)}."""
    images = np.stack([r["image"] for r in records]).astype(np.float32)
    images /= 255.0
    labels = np.asarray([r["label"] for r in records], dtype=np.int32)
    return {"image": images, "label": labels}


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    name: str
    tfds_name: str
    description: str
    splits: Mapping[str, str]  # jaxdl split -> TFDS split string
    offline: bool  # built by a jaxdl builder from files shipped in installed packages
    how_to_get: str
    image_shape: tuple[int, ...] = ()  # image datasets only
    num_classes: int = 0  # classification datasets only
    # Offline datasets: () -> the local file or folder the builder reads; raises
    # DatasetNotAvailableError naming what is missing and how to install it.
    locate: Callable[[], pathlib.Path] | None = None
    builder: str = ""  # module whose import registers the TFDS builder (imported lazily)
    # Records of a TFDS source -> arrays with the example axis first (any keys).
    decode: Callable[[Sequence[dict]], dict[str, np.ndarray]] = decode_images
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # whatever a task needs
    # A user's in-memory dataset (jaxdl.data.arrays): split -> {key: array}, read instead of TFDS.
    arrays: Mapping[str, Mapping[str, np.ndarray]] | None = dataclasses.field(default=None, compare=False,
                                                                              repr=False)

    def missing(self, what: str) -> DatasetNotAvailableError:
        """The error for an offline dataset whose source `what` is absent."""
        return DatasetNotAvailableError(f"dataset {self.name!r} needs {what}; install it with: {self.how_to_get}")
