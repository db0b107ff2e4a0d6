"""A run's workdir: metrics.jsonl and TensorBoard event files; an existing run is never clobbered."""

import os
import struct
import subprocess
import sys

import pytest
from tensorboardX.proto import event_pb2

from jaxdl.train import workdir as wd
from tests.helpers import experiment_config, train_run


def _read_scalars(logdir: str) -> dict[tuple[str, int], float]:
    """(tag, step) -> value from every event file in `logdir`.

    Event files are TFRecords: u64 length, u32 length CRC, an Event proto, u32 data CRC.
    """
    scalars = {}
    for name in sorted(os.listdir(logdir)):
        with open(os.path.join(logdir, name), "rb") as f:
            data = f.read()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos : pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12 : pos + 12 + length])
            pos += 12 + length + 4
            for value in event.summary.value:
                scalars[value.tag, event.step] = value.simple_value
    return scalars


def test_writer_writes_jsonl_and_tensorboard_scalars(tmp_path):
    writer = wd.MetricsWriter(str(tmp_path))
    writes = [
        (27, 1, "train", {"loss": 0.5, "accuracy": 0.75, "grad_norm": 1.25}),
        (27, 1, "validation", {"loss": 0.375, "accuracy": 0.875}),
        (54, 2, "validation", {"loss": 0.25, "accuracy": 0.9375}),
    ]
    for step, epoch, split, metrics in writes:
        writer.write(step=step, epoch=epoch, split=split, metrics=metrics)
    writer.close()

    records = wd.read_metrics(str(tmp_path))
    assert [{k: v for k, v in r.items() if k != "time"} for r in records] == [
        {"step": step, "epoch": epoch, "split": split, **metrics} for step, epoch, split, metrics in writes
    ]
    expected = {
        (f"{split}/{k}", step): v for step, _, split, metrics in writes for k, v in metrics.items()
    }
    # The values above are exact in float32, TensorBoard's scalar type.
    assert _read_scalars(str(tmp_path / "tensorboard")) == expected


def test_non_lead_writer_writes_nothing(tmp_path):
    writer = wd.MetricsWriter(str(tmp_path), lead=False)
    writer.write(step=1, epoch=1, split="train", metrics={"loss": 1.0})
    writer.close()
    assert os.listdir(tmp_path) == []


def test_existing_run_is_never_clobbered(tmp_path, data_dir):
    config = experiment_config(data_dir, "mnist_mlp", "train.num_steps=2")
    train_run(tmp_path, config)
    before = (tmp_path / "run" / "metrics.jsonl").read_text()
    with pytest.raises(wd.RunExistsError, match="already holds a run.*--overwrite"):
        train_run(tmp_path, config)
    assert (tmp_path / "run" / "metrics.jsonl").read_text() == before


def test_the_tensorboard_writer_leaves_an_installed_torch_unimported(tmp_path):
    # tensorboardX's writer imports torch when it can (0.85 s of a run's start); a stand-in torch
    # package first on the path shows whether it was imported, and that it still can be after.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("Tensor = object\n")
    program = ("import sys; import jaxdl.train.workdir; print('torch' in sys.modules); "
               "import torch; print(torch.__file__)")
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    run = subprocess.run([sys.executable, "-c", program], env={**os.environ, "PYTHONPATH": path},
                         capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", str(tmp_path / "torch" / "__init__.py")]
