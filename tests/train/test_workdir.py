"""What a run reports: metrics.jsonl, TensorBoard event files, and the progress lines."""

import os
import struct
import time

import pytest
from tensorboardX.proto import event_pb2

from jaxdl.train import workdir as wd
from jaxdl.train.progress import Progress


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


@pytest.fixture
def clock(monkeypatch):
    """A settable time.perf_counter, starting at 0."""
    now = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    return now


def test_plain_lines_show_throughput_since_the_previous_message(clock, capsys):
    progress = Progress(100, "demo", examples_per_step=128, live=False)
    clock[0] = 10.0
    progress.update(10, {"loss": 1.0})  # the first interval includes compilation
    clock[0] = 11.0
    progress.message("epoch 1")
    clock[0] = 13.0
    progress.update(25, {"loss": 0.5})
    clock[0] = 16.0
    progress.update(25, {"loss": 0.5})
    clock[0] = 30.0  # eval after the last update stays out of the rate
    progress.message("epoch 2")
    progress.message("no steps since the last line: no rate")
    progress.close()

    assert capsys.readouterr().out.splitlines() == [
        "[demo 10/100 11.0s] epoch 1 1.0 steps/s 128 ex/s",
        "[demo 60/100 30.0s] epoch 2 10.0 steps/s 1,280 ex/s",
        "[demo 60/100 30.0s] no steps since the last line: no rate",
    ]


def test_live_bar_shows_throughput(clock, capsys):
    progress = Progress(100, "demo", examples_per_step=128, live=True)
    clock[0] = 2.0
    progress.update(10, {"loss": 1.0})
    progress.close()
    assert "loss 1 5.0 steps/s 640 ex/s" in capsys.readouterr().err


def test_non_lead_progress_prints_nothing(clock, capsys):
    progress = Progress(100, "demo", examples_per_step=128, live=True, lead=False)
    clock[0] = 1.0
    progress.update(10, {"loss": 1.0})
    progress.message("epoch 1")
    progress.close()
    assert capsys.readouterr() == ("", "")
