"""Multi-host for real: 2 processes x 2 CPU devices over 127.0.0.1 equal 1 process x 4 devices."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from jaxdl import data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jaxdl(args, *, devices, process=None, port=None, processes=2):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COORDINATOR")}
    env.update(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu",
               JAXDL_COMPILATION_CACHE="")
    if process is not None:
        env.update(JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAX_NUM_PROCESSES=str(processes),
                   JAX_PROCESS_ID=str(process))
    return subprocess.Popen([sys.executable, "-m", "jaxdl", *args], env=env, stdout=subprocess.PIPE,
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
    two, single = _records(tmp_path / "two"), _records(tmp_path / "one")
    assert [(r["split"], r["step"]) for r in two] == [(r["split"], r["step"]) for r in single]  # each row once
    assert len(two) == 6
    for a, b in zip(two, single):
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-5)
        np.testing.assert_allclose(a["accuracy"], b["accuracy"], atol=1e-6)
