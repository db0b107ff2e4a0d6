"""Checkpoints in the loop: exact resume after SIGKILL, SIGTERM preemption, the NaN guard."""

import os
import shutil
import signal
import subprocess
import sys
import time

import chex
import pytest

from jaxdl import cli, config as config_lib, experiments
from jaxdl.runs import saved
from jaxdl.train import loop, workdir as wd

# Dropout makes every step key-dependent; small checkpoint interval gives many resume points.
RUN = ["train.epochs=6", "model.dropout=0.3", "train.checkpoint_every_steps=5",
       "train.keep_checkpoints=2", "data.max_train_examples=1024", "train.progress_updates_per_epoch=4"]


def _sets(data_dir, extra=()):
    return [a for s in [f"data.data_dir={data_dir}", *RUN, *extra] for a in ("--set", s)]


def _start(workdir, data_dir, *flags):
    return subprocess.Popen(
        [sys.executable, "-m", "jaxdl", "train", "mnist_mlp", "--workdir", str(workdir), *flags,
         *_sets(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, CI="true"),
    )


def _wait_for_checkpoint(workdir, proc, min_step=10, timeout=120):
    deadline = time.time() + timeout
    ckpts = os.path.join(workdir, "checkpoints")
    while time.time() < deadline:
        done = [int(d) for d in os.listdir(ckpts) if d.isdigit()] if os.path.isdir(ckpts) else []
        if any(s >= min_step for s in done):
            return
        assert proc.poll() is None, f"run ended before it could be interrupted:\n{proc.stdout.read()}"
        time.sleep(0.05)
    raise TimeoutError("no checkpoint appeared")


@pytest.mark.slow
def test_sigkill_then_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, data_dir):
    straight = _start(tmp_path / "straight", data_dir)
    assert straight.wait(timeout=300) == 0, straight.stdout.read()

    victim = _start(tmp_path / "killed", data_dir)
    _wait_for_checkpoint(tmp_path / "killed", victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = max(int(d) for d in os.listdir(tmp_path / "killed" / "checkpoints") if d.isdigit())
    total = 6 * (1024 // 128)
    assert killed_at < total, "the kill came too late to test anything"

    resumed = _start(tmp_path / "killed", data_dir, "--resume")
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert f"{total} steps" in out

    _, _, a = saved.restore(tmp_path / "straight")
    _, _, b = saved.restore(tmp_path / "killed")
    assert int(a.step) == int(b.step) == total
    chex.assert_trees_all_equal(a.params, b.params)
    chex.assert_trees_all_equal(a.opt_state, b.opt_state)
    # metrics.jsonl of the resumed run has no duplicates and matches the straight run's values.
    strip = lambda rs: [{k: v for k, v in r.items() if k != "time"} for r in rs]  # noqa: E731
    assert strip(wd.read_metrics(tmp_path / "killed")) == strip(wd.read_metrics(tmp_path / "straight"))


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path, data_dir):
    proc = _start(tmp_path / "run", data_dir)
    _wait_for_checkpoint(tmp_path / "run", proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "preempted at step" in out and "--resume" in out
    step = int(out.split("preempted at step ")[1].split(";")[0])
    saved = [int(d) for d in os.listdir(tmp_path / "run" / "checkpoints") if d.isdigit()]
    assert max(saved) == step


def test_resume_continues_an_in_process_run_exactly(tmp_path, data_dir):
    """A run whose checkpoints after step 17 are gone resumes from the last one before and ends
    where the uninterrupted run ended."""
    config = config_lib.apply_overrides(
        experiments.get_config("mnist_mlp"), [f"data.data_dir={data_dir}", *RUN, "train.keep_checkpoints=100"])
    full = loop.train(config, str(tmp_path / "run"), live=False)
    ckpts = tmp_path / "run" / "checkpoints"
    for d in os.listdir(ckpts):
        if d.isdigit() and int(d) > 17:
            shutil.rmtree(ckpts / d)
    resumed = loop.train(config, str(tmp_path / "run"), resume=True, live=False)
    chex.assert_trees_all_equal(resumed.state.params, full.state.params)
    assert resumed.final == full.final


def test_resume_with_another_model_is_refused(tmp_path, data_dir, capsys):
    args = ["train", "mnist_mlp", "--workdir", str(tmp_path / "run"), "--set", f"data.data_dir={data_dir}",
            "--set", "train.num_steps=10"]
    assert cli.main(args) == 0
    assert cli.main(args + ["--resume", "--set", "model.hidden=(50,)"]) == 2
    err = capsys.readouterr().err
    assert "model.hidden" in err and str(tmp_path / "run" / "checkpoints") in err


def test_nan_stops_training_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path, data_dir, capsys):
    args = ["train", "mnist_mlp", "--workdir", str(tmp_path / "run"), "--set", f"data.data_dir={data_dir}",
            "--set", "optimizer.name=sgd", "--set", "optimizer.learning_rate=1e30",
            "--set", "train.checkpoint_every_steps=1", "--set", "train.progress_updates_per_epoch=27"]
    assert cli.main(args) == 3
    err = capsys.readouterr().err
    assert "non-finite" in err and "at step" in err and "last good checkpoint: step" in err
    assert "train.debug_nans=true" in err
    bad_step = int(err.split(" at step ")[1].split()[0])
    good = int(err.split("last good checkpoint: step ")[1].split()[0])
    assert good == bad_step - 1
    _, _, state = saved.restore(tmp_path / "run")
    assert int(state.step) == good
    chex.assert_tree_all_finite(state.params)


def test_debug_nans_replay_names_the_op(tmp_path, data_dir, capsys):
    args = ["train", "mnist_mlp", "--workdir", str(tmp_path / "run"), "--set", f"data.data_dir={data_dir}",
            "--set", "optimizer.name=sgd", "--set", "optimizer.learning_rate=1e30",
            "--set", "train.debug_nans=true"]
    assert cli.main(args) == 3
    err = capsys.readouterr().err
    assert "jax_debug_nans replay: invalid value (nan) encountered in" in err
