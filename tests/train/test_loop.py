"""The shared training loop end to end on the real offline MNIST-5k: metrics, seeds, schedules, keeping the
best state; resuming from checkpoints after SIGKILL, SIGTERM preemption, the NaN guard."""

import json
import os
import shutil
import signal
import subprocess
import sys

import chex
import jax
import numpy as np
import pytest

from jaxdl import cli, config as config_lib, data, experiments, rng, tasks
from jaxdl.runs import saved
from jaxdl.train import loop, optimizers, steps, workdir as wd
from tests.helpers import JAXDL_SIGNALLING_ITSELF, assert_resumed_equals_straight


def _config(data_dir, name="mnist_mlp", *overrides):
    base = [f"data.data_dir={data_dir}", "train.progress_updates_per_epoch=2"]
    return config_lib.apply_overrides(experiments.get_config(name), base + list(overrides))


def _train(tmp_path, config, name="run"):
    return loop.train(config, str(tmp_path / name), live=False)


def test_tiny_mlp_run_learns_and_writes_its_workdir(tmp_path, data_dir, capsys):
    # 3 epochs (81 steps) of a 784-100-10 MLP with Adam: measured 0.888 test and 0.898
    # validation accuracy on CPU; 0.8 leaves room for platform numerics and stays far
    # above chance (0.10) and above what a broken update reaches in 81 steps.
    config = _config(data_dir, "mnist_mlp", "train.epochs=3")
    result = _train(tmp_path, config)
    assert result.final["test"]["accuracy"] > 0.8
    assert result.final["validation"]["accuracy"] > 0.8

    workdir = tmp_path / "run"
    assert json.loads((workdir / "config.json").read_text()) == json.loads(config.to_json())
    records = wd.read_metrics(str(workdir))
    assert [(r["epoch"], r["split"]) for r in records] == [(0, "model")] + [
        (e, s) for e in (1, 2, 3) for s in ("train", "validation", "test")
    ]
    records = records[1:]
    steps_per_epoch = 3500 // 128
    assert [r["step"] for r in records if r["split"] == "test"] == [steps_per_epoch * e for e in (1, 2, 3)]
    for r in records:
        assert {"loss", "accuracy"} <= r.keys()
    assert {"grad_norm", "learning_rate"} <= records[0].keys()
    out = capsys.readouterr().out
    assert "epoch 3: validation accuracy" in out  # plain progress lines without a terminal
    assert "mnist_mlp: validation accuracy" in out and "(81 steps, 3 epochs" in out


def test_same_seed_same_params_different_seed_different(tmp_path, data_dir):
    overrides = ("train.num_steps=30", "model.dropout=0.3", "data.max_train_examples=1000")
    a = _train(tmp_path, _config(data_dir, "mnist_mlp", *overrides), "a")
    b = _train(tmp_path, _config(data_dir, "mnist_mlp", *overrides), "b")
    c = _train(tmp_path, _config(data_dir, "mnist_mlp", *overrides, "seed=1"), "c")
    chex.assert_trees_all_equal(a.state.params, b.state.params)
    assert int(a.state.step) == 30
    for x, y in zip(jax.tree.leaves(a.state.params), jax.tree.leaves(c.state.params)):
        assert not np.allclose(x, y)


def test_num_steps_stops_mid_epoch(tmp_path, data_dir):
    result = _train(tmp_path, _config(data_dir, "mnist_mlp", "train.num_steps=40"))
    assert int(result.state.step) == 40
    records = wd.read_metrics(str(tmp_path / "run"))
    assert records[-1]["step"] == 40 and records[-1]["epoch"] == 2


def test_plateau_schedule_divides_the_learning_rate(tmp_path, data_dir):
    # lr so small nothing improves after the first epoch: the rule halves it every
    # `patience` epochs and stops when it reaches min_scale.
    config = _config(
        data_dir, "mnist_mlp", "optimizer.name=sgd", "optimizer.learning_rate=1e-9",
        "optimizer.schedule.name=plateau", "optimizer.schedule.patience=1",
        "optimizer.schedule.factor=0.5", "optimizer.schedule.min_scale=0.25",
        "data.max_train_examples=256", "train.epochs=20",
    )
    _train(tmp_path, config)
    lrs = [r["learning_rate"] for r in wd.read_metrics(str(tmp_path / "run")) if r["split"] == "train"]
    np.testing.assert_allclose(lrs, [1e-9, 1e-9, 0.5e-9], rtol=1e-6)  # stopped at 0.25 after epoch 3


def test_logged_learning_rate_follows_the_schedule(tmp_path, data_dir):
    config = _config(data_dir, "mnist_mlp", "optimizer.schedule.name=step",
                     "optimizer.schedule.decay_every=27", "optimizer.schedule.decay_rate=0.1",
                     "train.epochs=3")
    _train(tmp_path, config)
    lrs = [r["learning_rate"] for r in wd.read_metrics(str(tmp_path / "run")) if r["split"] == "train"]
    # 27 steps per epoch; the last update of epoch e is step 27e - 1.
    np.testing.assert_allclose(lrs, [1e-3, 1e-4, 1e-5], rtol=1e-5)


def test_keep_best_keeps_the_best_validation_state(tmp_path, data_dir):
    # SGD at a rate that overshoots: validation accuracy goes up and down, so the best
    # epoch is usually not the last; whichever it is, the kept state must be that epoch's.
    config = _config(data_dir, "mnist_mlp", "train.epochs=4", "train.keep_best=true",
                     "optimizer.name=sgd", "optimizer.learning_rate=2.0")
    result = _train(tmp_path, config)
    records = wd.read_metrics(str(tmp_path / "run"))
    val = {r["step"]: r["accuracy"] for r in records if r["split"] == "validation"}
    best_step = max(val, key=lambda s: (val[s], -s))
    assert result.best["step"] == best_step
    assert result.best["value"] == val[best_step]

    restored_config, model, state = saved.restore(str(tmp_path / "run"), best=True)
    assert int(state.step) == best_step
    task = tasks.make(restored_config)
    arrays = data.load_arrays("mnist5k", "validation", data_dir=data_dir)
    metrics = steps.make_evaluate(task, 500)(state.params, jax.device_put(arrays), jax.random.key(0))
    np.testing.assert_allclose(float(metrics["accuracy"]), val[best_step], atol=1e-6)


def test_keep_best_without_a_validation_split_is_refused(tmp_path, data_dir):
    config = _config(data_dir, "mnist_mlp", "train.keep_best=true", "train.eval_splits=('test',)")
    with pytest.raises(ValueError, match="add 'validation' to train.eval_splits"):
        _train(tmp_path, config)


# --- Checkpoints in the loop: exact resume after SIGKILL, SIGTERM preemption, the NaN guard. ---

# Dropout makes every step key-dependent; small checkpoint interval gives many resume points.
RUN = ["train.epochs=6", "model.dropout=0.3", "train.checkpoint_every_steps=5",
       "train.keep_checkpoints=2", "data.max_train_examples=1024", "train.progress_updates_per_epoch=4"]


def _sets(data_dir, extra=()):
    return [a for s in [f"data.data_dir={data_dir}", *RUN, *extra] for a in ("--set", s)]


def _start(workdir, data_dir, *flags, signal_after_save=None):
    program = ["-c", JAXDL_SIGNALLING_ITSELF] if signal_after_save else ["-m", "jaxdl"]
    env = dict(os.environ, CI="true", SIGNAL_AFTER_SAVE=signal_after_save or "")
    return subprocess.Popen(
        [sys.executable, *program, "train", "mnist_mlp", "--workdir", str(workdir), *flags, *_sets(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )


@pytest.mark.slow
def test_sigkill_then_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, data_dir):
    straight = _start(tmp_path / "straight", data_dir)
    assert straight.wait(timeout=300) == 0, straight.stdout.read()

    victim = _start(tmp_path / "killed", data_dir, signal_after_save="SIGKILL")
    assert victim.wait(timeout=300) == -signal.SIGKILL
    killed_at = max(int(d) for d in os.listdir(tmp_path / "killed" / "checkpoints") if d.isdigit())
    total = 6 * (1024 // 128)
    assert killed_at == 10 < total

    resumed = _start(tmp_path / "killed", data_dir, "--resume")
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert f"{total} steps" in out

    assert_resumed_equals_straight(tmp_path / "killed", tmp_path / "straight", total)


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path, data_dir):
    proc = _start(tmp_path / "run", data_dir, signal_after_save="SIGTERM")
    out, _ = proc.communicate(timeout=300)
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


def test_resuming_a_finished_run_trains_nothing_and_reports_its_last_evals(tmp_path, data_dir, capsys):
    config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [f"data.data_dir={data_dir}", *RUN])
    full = loop.train(config, str(tmp_path / "run"), live=False)
    records = wd.read_metrics(str(tmp_path / "run"))
    capsys.readouterr()
    again = loop.train(config, str(tmp_path / "run"), resume=True, live=False)
    chex.assert_trees_all_equal(again.state.params, full.state.params)
    assert again.final == full.final and set(full.final) == {"train", "validation", "test"}
    assert f"validation accuracy {full.final['validation']['accuracy']:.4f}" in capsys.readouterr().out
    assert wd.read_metrics(str(tmp_path / "run")) == records  # nothing trained, nothing logged twice


def test_resume_with_another_model_is_refused(tmp_path, data_dir, capsys):
    args = ["train", "mnist_mlp", "--workdir", str(tmp_path / "run"), "--set", f"data.data_dir={data_dir}",
            "--set", "train.num_steps=10"]
    assert cli.main(args) == 0
    assert cli.main(args + ["--resume", "--set", "model.hidden=(50,)"]) == 2
    err = capsys.readouterr().err
    assert "model.hidden" in err and str(tmp_path / "run" / "checkpoints") in err
    # A step option that changes what is trained (here gradient accumulation) is named too.
    assert cli.main(args + ["--resume", "--set", "train.grad_accum_steps=2"]) == 2
    assert "train.grad_accum_steps: '<absent>' (checkpoint) vs 2 (this run)" in capsys.readouterr().err


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


@pytest.mark.parametrize("chunking", [["train.checkpoint_every_steps=1", "train.progress_updates_per_epoch=27"], []],
                         ids=["checkpoint_every_step", "default_chunks"])
def test_an_overflowing_update_is_never_saved(tmp_path, data_dir, capsys, chunking):
    # Plain SGD at 1e40 turns the params inf in the first update while that step's loss and
    # gradient (computed before the update) are finite.
    args = ["train", "mnist_mlp", "--workdir", str(tmp_path / "run"), "--set", f"data.data_dir={data_dir}",
            "--set", "optimizer.name=sgd", "--set", "optimizer.learning_rate=1e40",
            *[a for s in chunking for a in ("--set", s)]]
    assert cli.main(args) == 3
    err = capsys.readouterr().err
    assert "non-finite" in err and "training stopped" in err
    if chunking:  # one step per chunk: the state guard, not the loss guard, stops it
        assert "non-finite params or optimizer state after step 1 (epoch 1) with finite loss" in err
    if "last good checkpoint" in err:
        _, _, state = saved.restore(tmp_path / "run")
        chex.assert_tree_all_finite((state.params, state.opt_state))
    else:
        assert "no checkpoint was saved before it" in err


def test_debug_nans_replay_names_the_op(tmp_path, data_dir, capsys):
    args = ["train", "mnist_mlp", "--workdir", str(tmp_path / "run"), "--set", f"data.data_dir={data_dir}",
            "--set", "optimizer.name=sgd", "--set", "optimizer.learning_rate=1e30",
            "--set", "train.debug_nans=true"]
    assert cli.main(args) == 3
    err = capsys.readouterr().err
    assert "jax_debug_nans replay: invalid value (nan) encountered in" in err


# --- The shared step's options in the loop: gradient accumulation on the data-parallel mesh, EMA. ---


def test_grad_accumulation_on_eight_devices_equals_the_whole_batch_run(tmp_path, data_dir):
    # The loop splits each batch of 128 over the 8 test devices (16 rows each); with k=4 each
    # microbatch keeps 4 rows per device. No dropout: the runs are the same run up to float32.
    assert jax.device_count() == 8
    overrides = ("train.num_steps=12", "data.max_train_examples=1024", "train.checkpoint_every_steps=-1")
    whole = _train(tmp_path, _config(data_dir, "mnist_mlp", *overrides), "whole")
    accum = _train(tmp_path, _config(data_dir, "mnist_mlp", *overrides, "train.grad_accum_steps=4"), "accum")
    chex.assert_trees_all_close(accum.state.params, whole.state.params, rtol=1e-4, atol=1e-6)
    for split, metrics in whole.final.items():
        for name, value in metrics.items():
            np.testing.assert_allclose(accum.final[split][name], value, rtol=1e-4, atol=1e-6, err_msg=f"{split} {name}")


def test_ema_run_evaluates_the_ema_and_resumes_exactly(tmp_path, data_dir):
    config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [
        f"data.data_dir={data_dir}", *RUN, "train.keep_checkpoints=100", "train.ema_decay=0.9"])
    straight = loop.train(config, str(tmp_path / "straight"), live=False)
    # Evaluation used the EMA (which differs from the params), not the params.
    task = tasks.make(config)
    arrays = jax.device_put(data.load_arrays("mnist5k", "validation", data_dir=data_dir))
    evaluate = steps.make_evaluate(task, config.data.eval_batch_size)
    ema = optimizers.eval_params(straight.state.params, straight.state.opt_state)
    on_ema = evaluate(ema, arrays, rng.streams(config.seed)["eval"])
    on_params = evaluate(straight.state.params, arrays, rng.streams(config.seed)["eval"])
    np.testing.assert_allclose(straight.final["validation"]["loss"], float(on_ema["loss"]), rtol=1e-6)
    assert abs(float(on_params["loss"]) - float(on_ema["loss"])) > 1e-4
    # What a finished run is used with (generate, figures, ensembles, word vectors) is the EMA too.
    chex.assert_trees_all_equal(saved.restore_params(str(tmp_path / "straight"))[2], jax.device_get(ema))
    # A copy of the run without its checkpoints past step 17 resumes to the same end, EMA included.
    shutil.copytree(tmp_path / "straight", tmp_path / "resumed")
    ckpts = tmp_path / "resumed" / "checkpoints"
    for d in os.listdir(ckpts):
        if d.isdigit() and int(d) > 17:
            shutil.rmtree(ckpts / d)
    loop.train(config, str(tmp_path / "resumed"), resume=True, live=False)
    assert_resumed_equals_straight(tmp_path / "resumed", tmp_path / "straight", int(straight.state.step))
