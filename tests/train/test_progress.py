"""Progress lines and the live bar: throughput since the previous message; silent off the lead process."""

import time

import pytest

from jaxdl.train.progress import Progress


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
