"""Successive halving: the right members survive, survivors equal the same members trained without
halving, and the member-steps shrink as the rungs say."""

import types

import numpy as np
import pytest

from jaxdl import cli, config as config_lib, experiments, sweep
from jaxdl.sweep import halving

BASE = ["train.epochs=4", "data.max_train_examples=512", "data.batch_size=32", "model.hidden=(16,)",
        "train.num_devices=1", "train.checkpoint_every_steps=-1"]
# lr 0 cannot learn, 1e30 diverges at once; 1e-2 learns faster than 1e-3 in a few steps.
LRS = [0.0, 1e-3, 1e-2, 1e30]


def _config(data_dir, *extra):
    return config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [f"data.data_dir={data_dir}", *BASE, *extra])


@pytest.fixture(scope="module")
def halved(tmp_path_factory, data_dir):
    config = _config(data_dir)
    # 2 seeds x 4 lrs, 3 members per call: 4 of the 8 go on after epoch 1 (two chunks), 2 after epoch 2.
    return sweep.run(config, seeds=2, grid={"optimizer.learning_rate": LRS}, chunk_size=3, num_devices=1,
                     live=False, keep_params=True, halving=sweep.Halving((1, 2), eta=2))


def test_the_known_ranking_keeps_the_right_members(halved):
    stops = {(r["seed"], r["optimizer.learning_rate"]): (r["stopped_epoch"], r["stopped_reason"]) for r in halved.rows}
    for seed in (0, 1):
        assert stops[seed, 1e30] == (1, "diverged")  # diverged ranks last, drops first
        assert stops[seed, 0.0] == (1, "halved")
        assert stops[seed, 1e-3] == (2, "halved")
        assert stops[seed, 1e-2] == (4, "finished")
    assert sweep.results.best_member(halved.rows, _Task)["optimizer.learning_rate"] == 1e-2


def test_ranking_within_each_seed_keeps_each_seeds_best():
    members = [{"member": i, "seed": i % 2} for i in range(6)]
    accuracy = [0.9, 0.1, 0.8, 0.2, 0.7, float("nan")]  # seed 0: members 0, 2, 4; seed 1: 1, 3, 5
    history = [[{"train": {"accuracy": 1.0}, "validation": {"accuracy": a}}] for a in accuracy]
    group = types.SimpleNamespace(members=members, task=_Task)
    keep = halving.survivors(list(range(6)), history, np.zeros(6, bool), group, sweep.Halving((1,), 2, "seed"))
    assert keep == [0, 1, 2, 3]  # seed 1 keeps its best two though seed 0's third beats them
    keep = halving.survivors(list(range(6)), history, np.zeros(6, bool), group, sweep.Halving((1,), 3))
    assert keep == [0, 2]


def test_survivors_equal_the_same_members_trained_without_halving(halved, data_dir):
    plain = sweep.run(_config(data_dir), seeds=2, grid={"optimizer.learning_rate": [1e-2]}, num_devices=1,
                      live=False)
    for row in plain.rows:
        (twin,) = [r for r in halved.rows if r["seed"] == row["seed"] and r["optimizer.learning_rate"] == 1e-2]
        for key, value in row.items():
            if key.startswith(("final_", "best_validation")):
                np.testing.assert_allclose(twin[key], value, rtol=1e-3, atol=1e-5, err_msg=key)
        curve = [c for c in plain.curves if c["member"] == row["member"]]
        twin_curve = [c for c in halved.curves if c["member"] == twin["member"]]
        assert [(c["epoch"], c["split"]) for c in twin_curve] == [(c["epoch"], c["split"]) for c in curve]
        for a, b in zip(twin_curve, curve):
            np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-3, atol=1e-5)
    # A halved member's curve stops at its rung; its row's finals are that epoch's.
    (early,) = [r for r in halved.rows if r["seed"] == 0 and r["optimizer.learning_rate"] == 1e-3]
    assert max(c["epoch"] for c in halved.curves if c["member"] == early["member"]) == 2


def test_member_steps_shrink_by_the_rungs(halved):
    steps_per_epoch = 512 // 32
    # 8 members train epoch 1, 4 epoch 2, 2 epochs 3-4 (rather than 8 x 4 epochs).
    assert halved.member_steps == (8 * 1 + 4 * 1 + 2 * 2) * steps_per_epoch
    assert halved.params["layers"][0]["kernel"].shape[0] == 8


@pytest.mark.parametrize("flags, message", [
    (["--halving-rungs", "1,4"], "below the 4 training epochs"),
    (["--halving-rungs", "2,1"], "increasing epoch counts"),
    (["--halving-rungs", "1", "--halving-eta", "1"], "eta must be an integer >= 2"),
    (["--halving-rungs", "1,x"], "comma-separated epoch counts"),
    (["--halving-rungs", "1", "--resume"], "cannot be combined with --resume"),
    (["--halving-eta", "2"], "need --halving-rungs"),
])
def test_bad_halving_flags_are_refused_in_one_line(tmp_path, data_dir, capsys, flags, message):
    workdir = tmp_path / "w"
    args = ["sweep", "mnist_mlp", "--workdir", str(workdir), *[a for s in BASE for a in ("--set", s)],
            "--set", f"data.data_dir={data_dir}", *flags]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not workdir.exists()


class _Task:
    monitor, monitor_mode = "accuracy", "max"
