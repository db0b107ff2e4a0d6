"""Study files (`jaxdl train path/to/study.py[:function]`): a user's own model and data run by the command
end to end (train, show, evaluate), resume bit-exact after SIGKILL, and bad names exit 2 in one line."""

import json
import os
import signal
import subprocess
import sys

import pytest

from jaxdl import cli
from tests.helpers import JAXDL_SIGNALLING_ITSELF, assert_resumed_equals_straight

# What these tests register (their own models, data, experiments) is gone after each.
pytestmark = pytest.mark.usefixtures("forget_registrations")

STUDY = os.path.abspath(os.path.join(os.path.dirname(__file__), "study_files", "tiny_study.py"))
# One device (the command's default), fewer epochs than the study's 10: a quick end-to-end run.
QUICK = ["--set", "train.epochs=3", "--set", "train.progress_updates_per_epoch=1"]


def _records(workdir, name="metrics.jsonl"):
    return [json.loads(line) for line in (workdir / name).read_text().splitlines()]


def test_train_show_and_evaluate_a_study_file_through_the_command(tmp_path, capsys):
    workdir = tmp_path / "run"
    assert cli.main(["train", STUDY, "--workdir", str(workdir), *QUICK]) == 0
    records = _records(workdir)
    assert [(r["epoch"], r["split"]) for r in records] == [(0, "model")] + [
        (e, s) for e in (1, 2, 3) for s in ("train", "validation", "test")]
    config = json.loads((workdir / "config.json").read_text())
    # The absolute path lets `--resume` and `evaluate` find the file again from any folder.
    assert config["experiment"] == STUDY and config["model"] == {"name": "XorMLP", "width": 16, "dropout": 0.1}
    assert config["sources"]["model"] == f"{STUDY}:XorMLP"

    capsys.readouterr()
    assert cli.main(["evaluate", "--workdir", str(workdir)]) == 0
    assert f"{STUDY} step 48 validation: accuracy" in capsys.readouterr().out
    evaluations = {r["split"]: r for r in _records(workdir, "evaluations.jsonl")}
    final = {r["split"]: r for r in records if r["epoch"] == 3}
    for split in ("validation", "test"):  # the saved state, evaluated again, scores what training logged
        assert evaluations[split]["accuracy"] == final[split]["accuracy"]

    assert cli.main(["show", f"{STUDY}:wide", "--set", "data.batch_size=32"]) == 0
    out = capsys.readouterr().out
    assert "width: 64" in out and "batch_size: 32" in out and f"experiment: {STUDY}:wide" in out


def test_a_study_function_it_lacks_or_a_missing_file_exits_2_in_one_line(tmp_path, capsys):
    assert cli.main(["train", f"{STUDY}:nope", "--workdir", str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err == (f"jaxdl: error: study file {STUDY} defines no function nope(); "
                                       "its functions: xor, get_config, wide\n")
    missing = str(tmp_path / "moved.py")
    assert cli.main(["train", missing, "--workdir", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == (f"jaxdl: error: study file {missing} not found (moved or renamed?); "
                                       "give its current path, e.g. jaxdl train path/to/study.py\n")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --- Killed with SIGKILL part-way, then `--resume`: the same params as a run never interrupted. ---

# 10 epochs of 16 steps with a checkpoint every ~5 steps: many points to be killed at; the
# study's dropout makes every step depend on its key, so a resumed key stream must be exact.
RUN = ["train.epochs=10", "train.checkpoint_every_steps=5", "train.keep_checkpoints=2",
       "train.progress_updates_per_epoch=4"]
TOTAL_STEPS = 10 * 1024 // 64


def _start(workdir, *flags, signal_after_save=None):
    program = ["-c", JAXDL_SIGNALLING_ITSELF] if signal_after_save else ["-m", "jaxdl"]
    return subprocess.Popen(
        [sys.executable, *program, "train", STUDY, "--workdir", str(workdir), *flags,
         *[a for s in RUN for a in ("--set", s)]],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, CI="true", SIGNAL_AFTER_SAVE=signal_after_save or ""),
    )


def _checkpoint_steps(workdir):
    ckpts = workdir / "checkpoints"
    return [int(d) for d in os.listdir(ckpts) if d.isdigit()] if ckpts.is_dir() else []


@pytest.mark.slow
def test_a_killed_study_run_resumes_bit_exact(tmp_path):
    straight = _start(tmp_path / "straight")
    out, _ = straight.communicate(timeout=300)
    assert straight.returncode == 0, out

    victim = _start(tmp_path / "killed", signal_after_save="SIGKILL")
    assert victim.wait(timeout=300) == -signal.SIGKILL, victim.stdout.read()
    assert 10 <= max(_checkpoint_steps(tmp_path / "killed")) < TOTAL_STEPS  # the first checkpoint at or past 10

    resumed = _start(tmp_path / "killed", "--resume")
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert f"({TOTAL_STEPS} steps" in out

    assert_resumed_equals_straight(tmp_path / "killed", tmp_path / "straight", TOTAL_STEPS)
