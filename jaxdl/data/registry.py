"""Dataset specs and loading: offline jaxdl builders and public TFDS datasets.

Everything goes through tensorflow-datasets' random-access `data_source` API
(array_record files), which works without TensorFlow. tfds is imported inside
functions only: importing it costs seconds and `import jaxdl.data` must stay cheap.
"""
from __future__ import annotations

import contextlib
import fcntl
import glob
import importlib
import importlib.util
import os
import pathlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from jaxdl.data import (
    array_records,
    arrays as arrays_lib,
    copy_task,
    dates,
    diamonds,
    graphs,
    images,
    movielens,
    sentiment,
    shakespeare,
)
from jaxdl.data.spec import DatasetNotAvailableError, DatasetSpec
from jaxdl.registry import Registry

DATASETS: Registry[DatasetSpec] = Registry("dataset")


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Adds `spec` under `spec.name` (jaxdl's own below go the same way); a name taken twice is an error."""
    return DATASETS.register(spec.name, spec)


# One line per family: each spec module lists its datasets in SPECS.
for _spec in (
    *images.SPECS,
    *movielens.SPECS,
    *diamonds.SPECS,
    *sentiment.SPECS,
    *graphs.SPECS,
    *shakespeare.SPECS,
    *dates.SPECS,
    *copy_task.SPECS,
):
    register_dataset(_spec)

# Builders write array_record: the only random-access format tfds reads without TensorFlow.
_ARRAY_RECORD = {"file_format": "array_record"}
_CHUNK = 4096  # examples per __getitems__ call in load_arrays


def register_arrays(name: str, splits: arrays_lib.Splits, *, num_classes: int | None = None,
                    description: str = "", input_key: str = "image") -> DatasetSpec:
    """Your arrays as dataset `name`: {split: {key: array}}, example axis first (see jaxdl.data.arrays)."""
    return register_dataset(arrays_lib.array_spec(name, splits, num_classes=num_classes, description=description,
                                                  input_key=input_key))


def register_npz(name: str, path: str, **options: Any) -> DatasetSpec:
    """An .npz file holding "SPLIT/KEY" arrays as dataset `name` (options as `register_arrays`)."""
    try:
        spec = arrays_lib.array_spec(name, arrays_lib.load_npz(path), **options)
    except ValueError as e:  # a bad split: name the file it came from
        raise ValueError(str(e) if path in str(e) else f"{path}: {e}") from None
    return register_dataset(spec)


def get_spec(name: str) -> DatasetSpec:
    return DATASETS.get_or_raise(name)


def default_data_dir() -> str:
    return os.environ.get("JAXDL_DATA_DIR") or os.environ.get("TFDS_DATA_DIR") or os.path.expanduser(
        "~/tensorflow_datasets"
    )


def offline_source_path(name: str) -> pathlib.Path:
    """The file or folder an offline dataset's builder reads.

    Raises DatasetNotAvailableError naming what is missing and how to install it.
    """
    spec = get_spec(name)
    if not spec.offline or spec.locate is None:
        raise ValueError(f"{name!r} is not an offline dataset")
    return spec.locate()


def availability(name: str, data_dir: str | None = None) -> tuple[bool, str]:
    """Whether `source(name, ...)` can work here, without any network access."""
    spec = get_spec(name)
    data_dir = data_dir or default_data_dir()
    if spec.arrays is not None:
        return True, "in memory"
    if spec.offline:
        try:
            return True, f"built locally from {offline_source_path(name)}"
        except DatasetNotAvailableError as e:
            return False, str(e)
    # Look for the files rather than asking tfds: an unprepared tfds builder leaves
    # an empty temporary folder behind on every call.
    if glob.glob(os.path.join(data_dir, spec.tfds_name, "*", f"{spec.tfds_name}-train.array_record*")):
        return True, f"prepared in {data_dir}"
    return False, f"not prepared as array_record in {data_dir}"


@contextlib.contextmanager
def _build_lock(data_dir: str, tfds_name: str) -> Iterator[None]:
    """Serialise generation into one data dir: concurrent first uses (e.g. parallel
    test workers or runs) otherwise collide on tfds' final rename of its tmp folder."""
    try:
        os.makedirs(data_dir, exist_ok=True)
        lock = open(os.path.join(data_dir, f".{tfds_name}.lock"), "a")
    except OSError:  # read-only data dir: nothing can be generated there, nothing to serialise
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def prepare(name: str, data_dir: str | None = None) -> None:
    """Generate the dataset's array_record files; the only function that may download."""
    spec = get_spec(name)
    if spec.arrays is not None:
        return  # in memory: nothing to generate
    data_dir = data_dir or default_data_dir()
    if spec.offline:
        offline_source_path(name)  # fail with install instructions before tfds does
        importlib.import_module(spec.builder)  # registers the builder with tfds
    elif availability(name, data_dir)[0]:
        return  # already prepared; nothing to download
    elif importlib.util.find_spec("tensorflow") is None:
        # TFDS's mnist/fashion_mnist generators use tf.io.gfile and tf.image.encode_png:
        # refuse before downloading rather than fail after it.
        raise DatasetNotAvailableError(
            f"generating TFDS {spec.tfds_name!r} needs tensorflow (pip install tensorflow); "
            f"alternatively: {spec.how_to_get}"
        )
    import tensorflow_datasets as tfds

    with _build_lock(data_dir, spec.tfds_name):
        tfds.builder(spec.tfds_name, data_dir=data_dir, **_ARRAY_RECORD).download_and_prepare()


def _tfds_split(spec: DatasetSpec, split: str) -> str:
    if split not in spec.splits:
        raise ValueError(f"unknown split {split!r} for {spec.name}; valid splits: {', '.join(spec.splits)}")
    return spec.splits[split]


def _public_source(spec: DatasetSpec, split: str, data_dir: str) -> Any:
    tfds_split = _tfds_split(spec, split)
    import tensorflow_datasets as tfds

    try:
        # download=False: jaxdl must never download implicitly. Not gated on
        # builder.is_prepared() so tfds.testing.mock_data (which patches only
        # as_data_source) keeps working; an unprepared dataset fails here fast.
        return tfds.data_source(
            spec.tfds_name, split=tfds_split, data_dir=data_dir, download=False, builder_kwargs=_ARRAY_RECORD
        )
    except Exception as e:  # tfds raises NotImplementedError/ValueError/OSError for missing data
        raise DatasetNotAvailableError(
            f"dataset {spec.name!r} (TFDS {spec.tfds_name!r}) is not prepared as array_record "
            f"in data dir {data_dir} (looked in {os.path.join(data_dir, spec.tfds_name)}); "
            f"jaxdl never downloads implicitly. To get it: {spec.how_to_get}.\n"
            f"(tfds said: {type(e).__name__}: {e})"
        ) from e


def source(name: str, split: str, data_dir: str | None = None) -> Any:
    """Random-access data source (len, __getitem__, __getitems__) of raw examples.

    Offline datasets are generated into `data_dir` on first use (local files only).
    """
    spec = get_spec(name)
    data_dir = data_dir or default_data_dir()
    if spec.arrays is not None:
        return arrays_lib.ArraySource(spec.arrays[_tfds_split(spec, split)])
    if not spec.offline:
        return _public_source(spec, split, data_dir)
    tfds_split = _tfds_split(spec, split)
    import tensorflow_datasets as tfds

    importlib.import_module(spec.builder)  # registers the builder with tfds
    tfds.disable_progress_bar()  # a first-use build takes a second; its bars are noise in logs
    # download=True only runs our builders, which read local files; it is a no-op
    # once the array_record files exist.
    with _build_lock(data_dir, spec.tfds_name):
        return tfds.data_source(
            spec.tfds_name, split=tfds_split, data_dir=data_dir, builder_kwargs=_ARRAY_RECORD
        )


def decode_records(name: str, records: Sequence[dict]) -> dict[str, np.ndarray]:
    """Examples from `source(name, ...)` -> arrays with the example axis first."""
    return get_spec(name).decode(records)


def load_arrays(
    name: str, split: str, data_dir: str | None = None, max_examples: int | None = None
) -> dict[str, np.ndarray]:
    """A whole split (or its first `max_examples`) decoded into arrays."""
    if max_examples is not None and max_examples < 1:
        raise ValueError(f"max_examples must be >= 1, got {max_examples}")
    spec = get_spec(name)
    if spec.arrays is not None:  # in memory already: no records to decode
        return {k: v[:max_examples] for k, v in spec.arrays[_tfds_split(spec, split)].items()}
    # A prepared split of plain tensors is read without importing TFDS (most of a second).
    records = array_records.read_split(data_dir or default_data_dir(), spec.tfds_name, _tfds_split(spec, split),
                                       limit=max_examples)
    if records is not None:  # all in memory already: one decode, no chunks to concatenate
        return decode_records(name, records)
    src = source(name, split, data_dir)
    n = len(src) if max_examples is None else min(max_examples, len(src))
    # Batched reads amortise array_record's per-call overhead; decoding per chunk
    # keeps the per-example Python dicts from piling up.
    chunks = [decode_records(name, src.__getitems__(list(range(start, min(start + _CHUNK, n)))))
              for start in range(0, n, _CHUNK)]
    return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}
