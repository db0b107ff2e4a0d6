"""jaxdl datasets as random-access TFDS sources and numpy arrays (no TensorFlow).

tensorflow_datasets is imported lazily by the functions that need it.
"""
from jaxdl.data.registry import (
    DATASETS,
    DatasetNotAvailableError,
    DatasetSpec,
    availability,
    decode_records,
    default_data_dir,
    get_spec,
    load_arrays,
    prepare,
    register_arrays,
    register_dataset,
    register_npz,
    source,
)
from jaxdl.data.spec import decode_images

__all__ = [
    "DATASETS",
    "DatasetNotAvailableError",
    "DatasetSpec",
    "availability",
    "decode_images",
    "decode_records",
    "default_data_dir",
    "get_spec",
    "load_arrays",
    "prepare",
    "register_arrays",
    "register_dataset",
    "register_npz",
    "source",
]
