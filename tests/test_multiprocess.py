"""Multi-host for real: 2 processes x 2 CPU devices over 127.0.0.1 equal 1 process x 4 devices."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from jaxdl import data
from tests.helpers import JAXDL_SIGNALLING_ITSELF


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jaxdl(args, *, devices, process=None, port=None, processes=2, program=("-m", "jaxdl"), extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COORDINATOR")}
    env.update(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu",
               JAXDL_COMPILATION_CACHE="")
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


def _two_processes(args, **kwargs):
    port = _free_port()
    procs = [_jaxdl(args, devices=2, process=i, port=port, **kwargs) for i in (0, 1)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    return [p.returncode for p in procs], outs


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
def test_two_processes_killed_and_resumed_end_like_an_uninterrupted_run(tmp_path, data_dir):
    data.source("mnist5k", "train", data_dir)
    args = ["train", "mnist_mlp", "--set", f"data.data_dir={data_dir}", "--set", "train.epochs=3",
            "--set", "model.dropout=0.3", "--set", "train.checkpoint_every_steps=5"]
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "straight")])
    assert codes == [0, 0], outs
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "killed")],
                                 program=("-c", JAXDL_SIGNALLING_ITSELF), extra_env={"SIGNAL_AFTER_SAVE": "SIGKILL"})
    assert codes == [-9, -9], outs
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "killed"), "--resume"])
    assert codes == [0, 0], outs
    timed = {"time", "model_flops_per_s", "mfu"}  # wall-clock values differ between any two runs
    strip = lambda records: [{k: v for k, v in r.items() if k not in timed} for r in records]  # noqa: E731
    assert strip(_records(tmp_path / "killed")) == strip(_records(tmp_path / "straight"))



@pytest.mark.slow
def test_a_two_process_sweep_killed_and_resumed_equals_the_one_process_sweep(tmp_path, data_dir):
    """Orbax saves and restores the members' states across the two processes; only process 0 writes rows."""
    data.source("mnist5k", "train", data_dir)
    args = ["sweep", "mnist_mlp", "--seeds", "2", "--set", "optimizer.learning_rate=0.001,0.003",
            "--set", "train.epochs=2", "--set", "model.dropout=0.2", "--set", f"data.data_dir={data_dir}"]
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "two")], program=("-c", JAXDL_SIGNALLING_ITSELF),
                                 extra_env={"SIGNAL_AFTER_SAVE": "SIGKILL", "SIGNAL_AT_STEP": "1"})
    assert codes == [-9, -9], outs
    assert (tmp_path / "two" / "checkpoints" / "1").is_dir() and not (tmp_path / "two" / "results.csv").exists()
    codes, outs = _two_processes([*args, "--workdir", str(tmp_path / "two"), "--resume"])
    assert codes == [0, 0], outs
    one = _jaxdl([*args, "--workdir", str(tmp_path / "one")], devices=4)
    assert one.wait(timeout=300) == 0, one.stdout.read()
    for name in ("results.csv", "curves.jsonl"):
        assert (tmp_path / "two" / name).read_text() == (tmp_path / "one" / name).read_text()
