"""Data parallelism over 8 fake CPU devices equals one device; multi-host arithmetic."""

from types import SimpleNamespace

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import models, parallel
from jaxdl.tasks import classification, losses
from jaxdl.train import steps
from jaxdl.train.state import create

IMAGE = (28, 28, 1)


def _data(n, seed=0):
    k1, k2 = jax.random.split(jax.random.key(seed))
    return {"image": jax.random.uniform(k1, (n, *IMAGE)), "label": jax.random.randint(k2, (n,), 0, 10)}


def _placed(tree, sharding):
    return jax.tree.map(lambda a: jax.device_put(a, sharding), tree)


def _train(name, num_devices, num_steps, tx, *, fsdp=False, hparams=None):
    """`num_steps` scanned steps over fixed data on a `num_devices` mesh."""
    assert len(jax.devices()) >= 8, "conftest sets 8 fake CPU devices"
    model = models.make(name, IMAGE, 10, **(hparams or {}))
    mesh = parallel.make_mesh(num_devices)
    state = create(model, tx, jax.random.key(0), jax.random.key(1))
    shardings = parallel.state_shardings(state, mesh, fsdp=fsdp)
    state = jax.device_put(state, shardings)
    data = _placed(_data(256), parallel.replicated(mesh))
    idx = jnp.stack([steps.epoch_indices(jax.random.key(2), e, 256, 32) for e in range(-(-num_steps // 8))])
    run = steps.make_run_steps(
        steps.make_train_step(classification.from_model(model, losses.softmax_cross_entropy), tx),
        state_sharding=shardings, batch_sharding=parallel.batch_sharding(mesh),
    )
    state, metrics = run(state, data, idx.reshape(-1, 32)[:num_steps])
    return state, metrics


@pytest.mark.parametrize("name, hparams", [("mlp", {"hidden": (64,), "dropout": 0.3}), ("cnn", {})])
def test_one_step_on_8_devices_equals_1_device(name, hparams):
    tx = optax.sgd(0.1)
    one, m1 = _train(name, 1, 1, tx, hparams=hparams)
    eight, m8 = _train(name, 8, 1, tx, hparams=hparams)
    chex.assert_trees_all_close(eight.params, one.params, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(m8, m1, rtol=1e-5, atol=1e-6)


def test_50_momentum_steps_on_8_devices_equal_1_device():
    tx = optax.sgd(0.05, momentum=0.9)
    one, m1 = _train("mlp", 1, 50, tx, hparams={"hidden": (64,)})
    eight, m8 = _train("mlp", 8, 50, tx, hparams={"hidden": (64,)})
    chex.assert_trees_all_close(eight.params, one.params, rtol=1e-4, atol=1e-5)
    chex.assert_trees_all_close(eight.opt_state, one.opt_state, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m8["loss"], m1["loss"], rtol=1e-5)


def test_fsdp_shards_params_and_trains_the_same():
    tx = optax.adam(1e-3)
    rep, _ = _train("mlp", 8, 5, tx, hparams={"hidden": (64,)})
    sharded, _ = _train("mlp", 8, 5, tx, fsdp=True, hparams={"hidden": (64,)})
    kernel = sharded.params["layers"][0]["kernel"]  # (784, 64): 784 = 8 * 98 is the largest divisible axis
    assert kernel.sharding.spec == jax.sharding.PartitionSpec("data", None)
    assert {s.data.shape for s in kernel.addressable_shards} == {(98, 64)}
    assert rep.params["layers"][0]["kernel"].sharding.is_fully_replicated
    chex.assert_trees_all_close(jax.device_get(sharded.params), jax.device_get(rep.params), rtol=1e-5, atol=1e-6)


def test_the_gathered_batch_is_split_over_the_mesh():
    mesh = parallel.make_mesh(8)
    seen = []

    def probe_step(state, batch):
        jax.debug.inspect_array_sharding(batch["image"], callback=seen.append)
        return state, {"loss": jnp.sum(batch["image"])}

    data = _placed(_data(64), parallel.replicated(mesh))
    run = steps.make_run_steps(probe_step, state_sharding=parallel.replicated(mesh),
                               batch_sharding=parallel.batch_sharding(mesh))
    _, metrics = run(jnp.zeros(()), data, jnp.arange(64).reshape(2, 32))
    (sharding,) = set(seen)
    assert sharding.shard_shape((32, *IMAGE)) == (4, *IMAGE)  # each of 8 devices holds 1/8
    np.testing.assert_allclose(metrics["loss"].sum(), data["image"].sum(), rtol=1e-5)


def test_batch_size_must_divide_by_the_device_count():
    with pytest.raises(ValueError, match=r"data.batch_size=100 must divide by the 8 devices .*e.g. 96"):
        parallel.check_batch_size("data.batch_size", 100, parallel.make_mesh(8))
    parallel.check_batch_size("data.batch_size", 100, parallel.make_mesh(4))
    with pytest.raises(ValueError, match="train.num_devices=9 but only 8 devices"):
        parallel.make_mesh(9)


def test_process_slices_partition_each_global_batch():
    rows = [range(128)[parallel.process_slice(128, p, 4)] for p in range(4)]
    assert [(r.start, r.stop) for r in rows] == [(0, 32), (32, 64), (64, 96), (96, 128)]
    assert sorted(i for r in rows for i in r) == list(range(128))
    with pytest.raises(ValueError, match="batch size 100 must divide by the 3 processes"):
        parallel.process_slice(100, 0, 3)


@pytest.mark.parametrize(
    "env, kind",
    [
        ({}, None),
        ({"JAX_COORDINATOR_ADDRESS": "10.0.0.1:1234", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "1"}, "explicit"),
        ({"SLURM_JOB_ID": "7", "SLURM_NTASKS": "16"}, "slurm"),
        ({"SLURM_JOB_ID": "7", "SLURM_NTASKS": "1"}, None),  # one task: nothing to join
        ({"TPU_WORKER_HOSTNAMES": "t0,t1,t2,t3"}, "tpu_pod"),
        ({"TPU_WORKER_HOSTNAMES": "t0"}, None),
    ],
)
def test_distributed_environment_detection(env, kind, monkeypatch):
    assert parallel.distributed_environment(env) == kind
    calls = []
    monkeypatch.setattr(jax.distributed, "initialize", lambda **kw: calls.append(kw))
    assert parallel.initialize_distributed(env) == (kind is not None)
    if kind == "explicit":
        assert calls == [{"coordinator_address": "10.0.0.1:1234", "num_processes": 2, "process_id": 1}]
    else:
        assert calls == ([{}] if kind else [])


def test_a_sharded_state_checkpoints_and_restores_with_its_shardings(tmp_path):
    from jaxdl.train.checkpoint import Checkpointer

    state, _ = _train("mlp", 8, 3, optax.adam(1e-3), fsdp=True, hparams={"hidden": (64,)})
    ckpt = Checkpointer(str(tmp_path / "ckpt"))
    ckpt.save(3, state, {"epoch": 1})
    target = jax.device_put(
        create(models.make("mlp", IMAGE, 10, hidden=(64,)), optax.adam(1e-3), jax.random.key(5), jax.random.key(6)),
        parallel.state_shardings(state, parallel.make_mesh(8), fsdp=True),
    )
    restored, extra = ckpt.restore(target)
    ckpt.close()
    assert extra == {"epoch": 1}
    chex.assert_trees_all_equal(jax.device_get(restored.params), jax.device_get(state.params))
    kernel = restored.params["layers"][0]["kernel"]
    assert kernel.sharding.spec == jax.sharding.PartitionSpec("data", None)


_CPU_DEVICES_PROBE = """
import jax
from jaxdl import parallel
took = parallel.use_cpu_devices(2)
print(took, len(jax.devices()), parallel.use_cpu_devices(3), len(jax.devices()))
"""


def test_use_cpu_devices_exposes_cores_before_the_backend_starts_only():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run([sys.executable, "-c", _CPU_DEVICES_PROBE], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    # Takes effect first; once the backend is up, the devices it started with stay.
    assert out == ["True", "2", "False", "2"]
    # Never over the suite's own forced device count (XLA_FLAGS), nor for n <= 1.
    assert not parallel.use_cpu_devices(2) and not parallel.use_cpu_devices(1)
    assert len(jax.devices()) == 8


def test_a_mesh_that_leaves_a_process_without_devices_is_refused(monkeypatch):
    # Two processes with two devices each: the first device alone would leave process 1 out.
    fake = [SimpleNamespace(id=i, process_index=i // 2) for i in range(4)]
    monkeypatch.setattr(parallel.jax, "devices", lambda: fake)
    monkeypatch.setattr(parallel.jax, "process_count", lambda: 2)
    monkeypatch.setattr(parallel.jax, "local_device_count", lambda: 2)
    with pytest.raises(ValueError, match=r"train.num_devices=1 leaves process\(es\) \[1\] .* multiple of 2"):
        parallel.make_mesh(1)
