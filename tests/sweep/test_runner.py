"""Sweeps: a vmapped member equals the single run with its seed and hyperparameters; chunking, divergence."""

import chex
import jax
import numpy as np
import pytest

from jaxdl import config as config_lib, experiments, sweep
from jaxdl.train import loop

BASE = ["train.epochs=2", "data.max_train_examples=512", "model.dropout=0.2", "train.num_devices=1",
        "train.checkpoint_every_steps=-1"]


def _config(data_dir, name="mnist_mlp", *extra):
    return config_lib.apply_overrides(experiments.get_config(name), [f"data.data_dir={data_dir}", *BASE, *extra])


def _single(tmp_path, config, label):
    return loop.train(config, str(tmp_path / label), live=False)


def _member(result, **where):
    (i,) = [i for i, r in enumerate(result.rows) if all(r[k] == v for k, v in where.items())]
    return result.rows[i], jax.tree.map(lambda p: p[i], result.params)


def _close(row, single, params, single_params, rtol=1e-4, atol=1e-5):
    chex.assert_trees_all_close(params, jax.device_get(single_params), rtol=rtol, atol=atol)
    for split in ("validation", "test"):
        np.testing.assert_allclose(row[f"final_{split}_loss"], single.final[split]["loss"], rtol=rtol)
        np.testing.assert_allclose(row[f"final_{split}_accuracy"], single.final[split]["accuracy"], atol=2e-3)


def test_each_member_equals_its_single_run(tmp_path, data_dir):
    config = _config(data_dir)
    grid = {"optimizer.learning_rate": [1e-3, 3e-3], "model.init_scale": [0.5, 1.0]}
    result = sweep.run(config, seeds=2, grid=grid, num_devices=1, keep_params=True, live=False)
    assert len(result.rows) == 8 and [r["member"] for r in result.rows] == list(range(8))
    for seed, lr, scale in [(1, 3e-3, 0.5), (0, 1e-3, 1.0)]:
        single = _single(tmp_path, _config(data_dir, "mnist_mlp", f"seed={seed}",
                                           f"optimizer.learning_rate={lr}", f"model.init_scale={scale}"),
                         f"s{seed}")
        row, params = _member(result, seed=seed, **{"optimizer.learning_rate": lr, "model.init_scale": scale})
        _close(row, single, params, single.state.params)
    # Different keys, different members.
    a = _member(result, seed=0, **{"optimizer.learning_rate": 1e-3, "model.init_scale": 1.0})[1]
    b = _member(result, seed=1, **{"optimizer.learning_rate": 1e-3, "model.init_scale": 1.0})[1]
    assert not np.allclose(a["layers"][0]["kernel"], b["layers"][0]["kernel"])


def test_initialiser_choice_is_a_member_axis(tmp_path, data_dir):
    config = _config(data_dir, "nielsen_ch3", "data.batch_size=32", "train.epochs=1")
    result = sweep.run(config, seeds=[3], grid={"model.kernel_init": ["normal", "scaled_normal"]},
                       num_devices=1, keep_params=True, live=False)
    for init in ("normal", "scaled_normal"):
        single = _single(tmp_path, _config(data_dir, "nielsen_ch3", "data.batch_size=32", "train.epochs=1",
                                           "seed=3", f"model.kernel_init={init}"), init)
        row, params = _member(result, **{"model.kernel_init": init})
        _close(row, single, params, single.state.params)


def test_diverging_members_are_flagged_and_do_not_touch_the_others(data_dir):
    config = _config(data_dir, "mnist_mlp", "optimizer.name=sgd")
    alone = sweep.run(config, seeds=2, grid={"optimizer.learning_rate": [0.1]}, num_devices=1,
                      keep_params=True, live=False)
    mixed = sweep.run(config, seeds=2, grid={"optimizer.learning_rate": [0.1, 1e30]}, num_devices=1,
                      keep_params=True, live=False)
    assert [r["diverged"] for r in mixed.rows] == [False, True, False, True]
    assert not any(r["diverged"] for r in alone.rows)
    for seed in (0, 1):
        ok_alone = _member(alone, seed=seed)
        ok_mixed = _member(mixed, seed=seed, **{"optimizer.learning_rate": 0.1})
        chex.assert_trees_all_close(ok_mixed[1], ok_alone[1], rtol=1e-5, atol=1e-6)
        assert ok_mixed[0]["final_test_accuracy"] == ok_alone[0]["final_test_accuracy"]


def test_chunked_and_sharded_sweeps_equal_the_unchunked_one(data_dir):
    config = _config(data_dir)
    grid = {"optimizer.learning_rate": [1e-3, 3e-3]}
    whole = sweep.run(config, seeds=3, grid=grid, num_devices=1, chunk_size=6, keep_params=True, live=False)
    chunked = sweep.run(config, seeds=3, grid=grid, num_devices=1, chunk_size=4, keep_params=True, live=False)
    sharded = sweep.run(config, seeds=3, grid=grid, num_devices=8, keep_params=True, live=False)
    for other in (chunked, sharded):
        chex.assert_trees_all_close(other.params, whole.params, rtol=1e-4, atol=5e-5)
        for a, b in zip(other.rows, whole.rows):
            assert a.keys() == b.keys() and a["seed"] == b["seed"]
            np.testing.assert_allclose(a["final_validation_loss"], b["final_validation_loss"], rtol=1e-4)


def test_shared_data_order_uses_the_config_seed_for_every_member(data_dir):
    config = _config(data_dir, "mnist_mlp", "seed=0")
    per_seed = sweep.run(config, seeds=2, num_devices=1, keep_params=True, live=False)
    shared = sweep.run(config, seeds=2, num_devices=1, keep_params=True, live=False, data_order="shared")
    chex.assert_trees_all_close(_member(shared, seed=0)[1], _member(per_seed, seed=0)[1], rtol=1e-4, atol=5e-5)
    assert not np.allclose(_member(shared, seed=1)[1]["layers"][0]["kernel"],
                           _member(per_seed, seed=1)[1]["layers"][0]["kernel"])


def test_batch_size_axis_runs_one_group_per_size(data_dir):
    config = _config(data_dir, "mnist_mlp", "train.epochs=1")
    result = sweep.run(config, seeds=1, grid={"data.batch_size": [32, 64], "optimizer.learning_rate": [1e-3, 1e-2]},
                       num_devices=1, live=False)
    assert [(r["batch_size"], r["optimizer.learning_rate"]) for r in result.rows] == [
        (32, 1e-3), (32, 1e-2), (64, 1e-3), (64, 1e-2)]
    assert result.member_steps == 2 * (512 // 32) + 2 * (512 // 64)


def test_l2_and_weight_decay_are_member_axes(tmp_path, data_dir):
    config = _config(data_dir, "mnist_mlp", "optimizer.name=adamw", "train.epochs=1")
    result = sweep.run(config, seeds=[2], grid={"optimizer.l2": [0.0, 0.01], "optimizer.weight_decay": [0.0, 0.1]},
                       num_devices=1, keep_params=True, live=False)
    single = _single(tmp_path, _config(data_dir, "mnist_mlp", "optimizer.name=adamw", "train.epochs=1", "seed=2",
                                       "optimizer.l2=0.01", "optimizer.weight_decay=0.1"), "wd")
    row, params = _member(result, **{"optimizer.l2": 0.01, "optimizer.weight_decay": 0.1})
    _close(row, single, params, single.state.params)
    plain = _member(result, **{"optimizer.l2": 0.0, "optimizer.weight_decay": 0.0})[1]
    assert np.abs(plain["layers"][0]["kernel"]).sum() > np.abs(params["layers"][0]["kernel"]).sum()


def test_chunk_size_follows_the_memory_estimate(data_dir, capsys, monkeypatch):
    from jaxdl.sweep import programs

    config = _config(data_dir, "mnist_mlp", "train.num_steps=2")
    monkeypatch.setattr(programs, "_memory_budget", lambda: 1.0)  # room for no one: one member per call
    small = sweep.run(config, seeds=4, num_devices=1, keep_params=True, live=False)
    assert "4 members, 1 per compiled call" in capsys.readouterr().out
    monkeypatch.setattr(programs, "_memory_budget", lambda: 1e12)
    big = sweep.run(config, seeds=4, num_devices=1, keep_params=True, live=False)
    assert "4 members, 4 per compiled call" in capsys.readouterr().out
    chex.assert_trees_all_close(small.params, big.params, rtol=1e-4, atol=5e-5)


@pytest.mark.parametrize("key, value", [("optimizer.clip_norm", 0.2), ("optimizer.clip_value", 0.002),
                                        ("optimizer.schedule.warmup_steps", 5)])
def test_clipping_and_warmup_are_member_axes(tmp_path, data_dir, key, value):
    extra = ("optimizer.name=sgd", "optimizer.learning_rate=0.1")
    result = sweep.run(_config(data_dir, "mnist_mlp", *extra), seeds=[1], grid={key: [0, value]},
                       num_devices=1, keep_params=True, live=False)
    single = _single(tmp_path, _config(data_dir, "mnist_mlp", *extra, "seed=1", f"{key}={value}"), "single")
    row, params = _member(result, **{key: value})
    _close(row, single, params, single.state.params)
    off = _member(result, **{key: 0})[1]  # 0 = off: the value reaches the program
    assert not np.allclose(off["layers"][0]["kernel"], params["layers"][0]["kernel"], atol=1e-4)


def test_warmup_of_a_schedule_that_depends_on_it_cannot_be_swept():
    config = experiments.get_config("mnist_mlp")
    config.optimizer.schedule.name = "cosine"
    with pytest.raises(ValueError, match="sweeping optimizer.schedule.warmup_steps needs optimizer.schedule.name in"):
        sweep.members(config, [0], {"optimizer.schedule.warmup_steps": [0, 10]})


def test_a_streaming_sweep_equals_the_on_device_shared_order_sweep(data_dir):
    """data.on_device=false: each batch is read once for every member; members train on exactly the
    batches of the on-device shared order (train metrics and params equal), evals within float32 rounding."""
    grid = {"optimizer.learning_rate": [1e-3, 3e-3]}
    kwargs = dict(seeds=2, grid=grid, num_devices=2, data_order="shared", keep_params=True, live=False)
    on_device = sweep.run(_config(data_dir), **kwargs)
    streamed = sweep.run(_config(data_dir, "mnist_mlp", "data.on_device=false"), **kwargs)
    chex.assert_trees_all_close(streamed.params, on_device.params, rtol=1e-6, atol=1e-7)
    assert len(streamed.curves) == len(on_device.curves)
    for a, b in [*zip(streamed.rows, on_device.rows), *zip(streamed.curves, on_device.curves)]:
        assert a.keys() == b.keys()
        for k, v in a.items():
            if isinstance(v, float):
                np.testing.assert_allclose(v, b[k], rtol=1e-6, err_msg=k)
            else:
                assert v == b[k], k


def test_a_streaming_sweep_with_per_seed_order_is_refused(data_dir):
    with pytest.raises(ValueError, match="needs --data-order shared"):
        sweep.run(_config(data_dir, "mnist_mlp", "data.on_device=false"), seeds=2, live=False)


def test_a_member_with_grad_accumulation_and_dropout_equals_its_single_run(tmp_path, data_dir):
    # Dropout draws per microbatch (fold_in(step key, i)): the vmapped member and the loop agree.
    accum = ("train.grad_accum_steps=4", "train.epochs=1")
    result = sweep.run(_config(data_dir, "mnist_mlp", *accum), seeds=2, num_devices=1, keep_params=True, live=False)
    single = _single(tmp_path, _config(data_dir, "mnist_mlp", *accum, "seed=1"), "s1")
    row, params = _member(result, seed=1)
    _close(row, single, params, single.state.params)
