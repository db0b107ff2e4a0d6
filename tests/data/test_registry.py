"""The dataset registry: names and splits, the data dir, failing fast on unprepared public datasets, lazy TFDS."""

import importlib.util
import os
import socket
import subprocess
import sys

import pytest

from jaxdl import data


@pytest.mark.parametrize(
    "name, alternative", [("mnist", "mnist5k"), ("fashion_mnist", "fashion_mnist_debian")]
)
def test_unprepared_public_dataset_fails_at_once_without_the_network(tmp_path, name, alternative, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("data.source tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(data.DatasetNotAvailableError) as err:
        data.source(name, "train", data_dir=str(tmp_path))
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
        f"d.source('mnist5k', 'test', data_dir={data_dir!r})[0]\n"  # TFDS's data source (load_arrays may skip it)
        "assert 'tensorflow_datasets' in sys.modules\n"
        "assert 'tensorflow' not in sys.modules, 'loading imported tensorflow'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
