"""Multi-host for real: 2 processes x 2 CPU devices over 127.0.0.1 equal 1 process x 4 devices."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import chex
import numpy as np
import pytest

from jaxdl import cli, data
from jaxdl.runs import saved
from jaxdl.train import loop
from tests.helpers import JAXDL_SIGNALLING_ITSELF, assert_resumed_equals_straight, experiment_config_or_skip

JAXDL = ("-m", "jaxdl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jaxdl(args, *, devices, process=None, port=None, processes=2, program=JAXDL, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COORDINATOR")}
    env.update(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu",
               JAXDL_COMPILATION_CACHE="", PYTHONFAULTHANDLER="1")
    if process is not None:
        env.update(JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAX_NUM_PROCESSES=str(processes),
                   JAX_PROCESS_ID=str(process))
    env.update(extra_env or {})
    return subprocess.Popen([sys.executable, *program, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _records(workdir):
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


@pytest.mark.slow
def test_two_processes_train_like_one_process_with_as_many_devices(tmp_path, data_dir):
    data.source("mnist5k", "train", data_dir)  # built once here, not raced by the two processes
    args = ["train", "mnist_mlp", "--set", "train.epochs=2", "--set", f"data.data_dir={data_dir}"]
    port = _free_port()
    procs = [_jaxdl([*args, "--workdir", str(tmp_path / "two")], devices=2, process=i, port=port) for i in (0, 1)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert "mnist_mlp: validation accuracy" in outs[0] and "mnist_mlp:" not in outs[1]  # only process 0 prints
    one = _jaxdl([*args, "--workdir", str(tmp_path / "one")], devices=4)
    out = one.communicate(timeout=300)[0]
    assert one.returncode == 0, out
    (model_two, *two), (model_one, *single) = _records(tmp_path / "two"), _records(tmp_path / "one")
    # The "model" row: the global step's parameters and FLOPs, whatever the processes.
    assert {**model_two, "time": 0} == {**model_one, "time": 0} and model_two["split"] == "model"
    assert [(r["split"], r["step"]) for r in two] == [(r["split"], r["step"]) for r in single]  # each row once
    assert len(two) == 6
    for a, b in zip(two, single):
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-5)
        np.testing.assert_allclose(a["accuracy"], b["accuracy"], atol=1e-6)


def _two_processes(args, *, programs=(JAXDL, JAXDL), **kwargs):
    """(exit codes, outputs) of `args` run as 2 processes x 2 CPU devices; a process still running
    after 300 s (waiting in a collective the other left) fails the test and is killed."""
    port = _free_port()
    procs = [_jaxdl(args, devices=2, process=i, port=port, program=programs[i], **kwargs) for i in (0, 1)]
    deadline = time.monotonic() + 300
    try:
        outs = [p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0] for p in procs]
    except subprocess.TimeoutExpired:
        for p in procs:  # SIGABRT: faulthandler prints every thread's stack, to show where it waits
            if p.poll() is None:
                p.send_signal(signal.SIGABRT)
        outs = [p.communicate(timeout=60)[0] for p in procs]
        pytest.fail(f"{args[0]} hung in 2 processes:\n" + "\n".join(outs))
    return [p.returncode for p in procs], outs


def _sets(*overrides):
    return [a for s in overrides for a in ("--set", s)]


@pytest.mark.slow
def test_a_two_process_sweep_equals_the_one_process_sweep(tmp_path, data_dir):
    data.source("mnist5k", "train", data_dir)
    args = ["sweep", "mnist_mlp", "--seeds", "2", "--set", "optimizer.learning_rate=0.001,0.003",
            "--set", "train.epochs=1", "--set", f"data.data_dir={data_dir}"]
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "two")])
    assert codes == [0, 0], outs
    assert "4 members (0 diverged)" in outs[0] and "members (0 diverged)" not in outs[1]
    one = _jaxdl([*args, "--workdir", str(tmp_path / "one")], devices=4)
    assert one.wait(timeout=300) == 0, one.stdout.read()
    for name in ("results.csv", "curves.jsonl"):
        assert (tmp_path / "two" / name).read_text() == (tmp_path / "one" / name).read_text()


@pytest.mark.slow
def test_two_processes_killed_or_preempted_and_resumed_end_like_an_uninterrupted_run(tmp_path, data_dir):
    data.source("mnist5k", "train", data_dir)
    args = ["train", "mnist_mlp", *_sets(f"data.data_dir={data_dir}", "train.epochs=3", "model.dropout=0.3",
                                          "train.checkpoint_every_steps=5")]
    total = 3 * (3500 // 128)
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "straight")])
    assert codes == [0, 0], outs
    signalling = ("-c", JAXDL_SIGNALLING_ITSELF)
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "killed")], programs=(signalling, signalling),
                                 extra_env={"SIGNAL_AFTER_SAVE": "SIGKILL"})
    # Each kills itself after the same save; one still waiting on its peer when that peer is gone is
    # aborted by the collectives (SIGABRT) instead: either way both die without a clean exit.
    assert -9 in codes and set(codes) <= {-9, -6}, outs
    # SIGTERM reaches the processes of a job at different times; here only process 0 gets it, and
    # both stop at the same step with one checkpoint (else one waits in the other's collectives).
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "preempted")], programs=(signalling, JAXDL),
                                 extra_env={"SIGNAL_AFTER_SAVE": "SIGTERM"})
    assert codes == [0, 0], outs
    assert "preempted at step" in outs[0] and "preempted" not in outs[1]
    stopped_at = int(outs[0].split("preempted at step ")[1].split(";")[0])
    assert 10 <= stopped_at < total
    assert max(saved.checkpoint_steps(str(tmp_path / "preempted"))) == stopped_at
    for name in ("killed", "preempted"):
        codes, outs = _two_processes([*args, "--workdir", str(tmp_path / name), "--resume"])
        assert codes == [0, 0], outs
        assert_resumed_equals_straight(tmp_path / name, tmp_path / "straight", total)


def _error_lines(out):
    return [line for line in out.splitlines() if line.startswith("jaxdl: error:")]


@pytest.mark.slow
def test_a_non_finite_step_stops_both_processes_alike_and_never_saves_it(tmp_path, data_dir):
    data.source("mnist5k", "train", data_dir)
    # One step per chunk and a checkpoint after each. Plain SGD at 1e40: the first update overflows
    # (the state guard); at 1e30 the loss turns non-finite a few steps in (the loss guard).
    for lr in ("1e40", "1e30"):
        codes, outs = _two_processes(["train", "mnist_mlp", "--workdir", str(tmp_path / lr), *_sets(
            f"data.data_dir={data_dir}", "optimizer.name=sgd", f"optimizer.learning_rate={lr}",
            "train.checkpoint_every_steps=1", "train.progress_updates_per_epoch=27")])
        assert codes == [3, 3], outs
        errors = [_error_lines(out) for out in outs]
        assert len(errors[0]) == 1 and errors[0] == errors[1], outs
        if lr == "1e40":
            assert "non-finite params or optimizer state after step 1 (epoch 1)" in errors[0][0]
            assert "no checkpoint was saved before it" in errors[0][0]
            continue
        bad_step = int(errors[0][0].split(" at step ")[1].split()[0])
        good = int(errors[0][0].split("last good checkpoint: step ")[1].split()[0])
        assert good == bad_step - 1 == max(saved.checkpoint_steps(str(tmp_path / lr)))
        _, _, state = saved.restore(str(tmp_path / lr))
        chex.assert_tree_all_finite((state.params, state.opt_state))


# A tiny char_lstm (keep_best is on in its config) over all 4 devices.
CHAR_LSTM = ["model.hidden=32", "lm.seq_len=64", "data.batch_size=8", "data.max_train_examples=160",
             "train.num_steps=0", "train.epochs=2", "data.eval_batch_size=256", "optimizer.learning_rate=0.01",
             "train.num_devices=0"]


@pytest.mark.slow
def test_two_processes_keep_the_best_state_evaluate_and_generate_like_one_process(tmp_path, data_dir, capsys):
    # The reference: 1 process x 4 devices (of this process's 8), which also builds the dataset.
    config = experiment_config_or_skip(data_dir, "char_lstm", *CHAR_LSTM, "train.num_devices=4")
    loop.train(config, str(tmp_path / "one"), live=False)
    two = str(tmp_path / "two")
    codes, outs = _two_processes(["train", "char_lstm", "--workdir", two, *_sets(f"data.data_dir={data_dir}",
                                                                                   *CHAR_LSTM)])
    assert codes == [0, 0], outs
    assert "best validation" in outs[0] and "best validation" not in outs[1]
    kept = [sorted(os.listdir(tmp_path / run / "best")) for run in ("one", "two")]
    assert kept[0] == kept[1] and len(kept[0]) == 1 and kept[0][0].isdigit()  # one state, written once
    _, _, one_best = saved.restore(str(tmp_path / "one"), best=True)
    _, _, two_best = saved.restore(two, best=True)
    # 40 Adam steps over all-reduces in another order: a few float32 roundings apart.
    chex.assert_trees_all_close(two_best.params, one_best.params, rtol=1e-4, atol=1e-5)

    # evaluate and generate: the 2-process launch prints (process 0) and records what 1 process does.
    codes, outs = _two_processes(["evaluate", "--workdir", two, "--best"])
    assert codes == [0, 0], outs
    capsys.readouterr()
    assert cli.main(["evaluate", "--workdir", two, "--best"]) == 0
    printed = capsys.readouterr().out.rsplit(" (", 1)[0]  # without the seconds it took
    assert printed in outs[0] and printed not in outs[1]
    with open(os.path.join(two, "evaluations.jsonl")) as f:
        rows = [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in f]
    assert len(rows) == 2 and rows[0] == rows[1]  # one row per launch
    argv = ["generate", "--workdir", two, "--prompt", "ROMEO:", "--length", "40", "--seed", "3"]
    codes, outs = _two_processes(argv)
    assert codes == [0, 0], outs
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("ROMEO:") and text in outs[0] and text not in outs[1]


@pytest.mark.slow
def test_a_two_process_sweep_killed_and_resumed_equals_the_one_process_sweep(tmp_path, data_dir):
    """Orbax saves and restores the members' states across the two processes; only process 0 writes rows."""
    data.source("mnist5k", "train", data_dir)
    args = ["sweep", "mnist_mlp", "--seeds", "2", "--set", "optimizer.learning_rate=0.001,0.003",
            "--set", "train.epochs=2", "--set", "model.dropout=0.2", "--set", f"data.data_dir={data_dir}"]
    signalling = ("-c", JAXDL_SIGNALLING_ITSELF)
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "two")], programs=(signalling, signalling),
                                 extra_env={"SIGNAL_AFTER_SAVE": "SIGKILL", "SIGNAL_AT_STEP": "1"})
    # As in the train test above: a process still in a collective when its peer killed itself is
    # aborted (SIGABRT) before it reaches its own kill; either way both die after the same save.
    assert -9 in codes and set(codes) <= {-9, -6}, outs
    assert (tmp_path / "two" / "checkpoints" / "1").is_dir() and not (tmp_path / "two" / "results.csv").exists()
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "two"), "--resume"])
    assert codes == [0, 0], outs
    one = _jaxdl([*args, "--workdir", str(tmp_path / "one")], devices=4)
    assert one.wait(timeout=300) == 0, one.stdout.read()
    for name in ("results.csv", "curves.jsonl"):
        assert (tmp_path / "two" / name).read_text() == (tmp_path / "one" / name).read_text()
