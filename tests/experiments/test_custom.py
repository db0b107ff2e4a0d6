"""Your own model and data through jaxdl (jaxdl.fit, jaxdl.experiment): the shared loop, sweeps and
several devices treat them as they treat jaxdl's own experiments."""

import json

import chex
import jax
import numpy as np
import pytest
from flax import nnx

import jaxdl
from jaxdl import cli, experiments, sweep
from jaxdl.train import loop
from tests.helpers import xor_splits

# What these tests register (their own models, data, experiments) is gone after each.
pytestmark = pytest.mark.usefixtures("forget_registrations")


class XorNet(nnx.Module):
    """A user's module: one hidden ReLU layer with dropout; `num_classes` comes from the labels."""

    def __init__(self, width=16, dropout=0.0, num_classes=2, *, rngs):
        self.hidden = nnx.Linear(2, width, rngs=rngs)
        self.dropout = nnx.Dropout(dropout)
        self.out = nnx.Linear(width, num_classes, rngs=rngs)

    def __call__(self, x, *, train=False, rngs=None):
        return self.out(self.dropout(jax.nn.relu(self.hidden(x)), deterministic=not train, rngs=rngs))


# Fast settings: 16 steps an epoch; one device unless a test is about devices; no checkpoints mid-run.
SETTINGS = ["data.batch_size=64", "optimizer.learning_rate=1e-2", "train.num_devices=1",
            "train.checkpoint_every_steps=-1", "train.progress_updates_per_epoch=1"]


def test_a_user_nnx_model_on_in_memory_arrays_learns_xor_through_fit(tmp_path):
    # 10 epochs (160 Adam steps): measured 0.98 validation accuracy on CPU. XOR caps a linear
    # model near chance (0.5), so 0.9 can only be reached through the hidden layer.
    result = jaxdl.fit(XorNet, xor_splits(), name="xor_fit", hparams=dict(width=32),
                       overrides=[*SETTINGS, "train.epochs=10"], workdir=str(tmp_path / "run"))
    assert result.final["validation"]["accuracy"] > 0.9
    assert int(result.state.step) == 10 * 1024 // 64

    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["experiment"] == "xor_fit" and saved["model"] == {"name": "XorNet", "width": 32}
    assert saved["train"]["eval_splits"] == ["validation"]  # the splits the data has, less 'train'
    assert saved["sources"]["model"] == f"{__name__}:XorNet"
    assert saved["sources"]["data"].startswith("in-memory arrays as arrays_")
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["split"]) for r in records[-2:]] == [(10, "train"), (10, "validation")]
    assert records[-1]["accuracy"] == result.final["validation"]["accuracy"]


def test_experiment_registers_a_config_that_show_and_set_change(capsys):
    config = jaxdl.experiment(XorNet, xor_splits(), name="xor_show", hparams=dict(width=8), overrides=SETTINGS)
    assert config.model.width == 8 and config.optimizer.learning_rate == 1e-2
    assert experiments.get_config("xor_show").to_dict() == {**config.to_dict(), "experiment": "xor_show"}
    assert cli.main(["show", "xor_show", "--set", "model.width=4"]) == 0
    out = capsys.readouterr().out
    assert "width: 4" in out and "name: XorNet" in out


def test_a_sweep_member_equals_the_single_run_with_its_seed_and_learning_rate(tmp_path):
    run = [*SETTINGS, "train.epochs=2"]
    config = jaxdl.experiment(XorNet, xor_splits(), name="xor_sweep", hparams=dict(dropout=0.2), overrides=run)
    rates = [3e-3, 1e-2]
    swept = sweep.run(config, seeds=2, grid={"optimizer.learning_rate": rates}, num_devices=1, keep_params=True,
                      live=False)
    assert [(r["seed"], r["optimizer.learning_rate"]) for r in swept.rows] == [(s, v) for s in (0, 1) for v in rates]
    for seed, rate in [(1, 1e-2), (0, 3e-3)]:
        single_config = jaxdl.experiment(XorNet, xor_splits(), name="xor_sweep", hparams=dict(dropout=0.2),
                                         overrides=[*run, f"seed={seed}", f"optimizer.learning_rate={rate}"])
        single = loop.train(single_config, str(tmp_path / f"s{seed}"), live=False)
        (i,) = [i for i, r in enumerate(swept.rows) if r["seed"] == seed and r["optimizer.learning_rate"] == rate]
        # vmapped and unbatched programs round differently: equal within float32 noise, not bitwise.
        chex.assert_trees_all_close(jax.tree.map(lambda p: p[i], swept.params), jax.device_get(single.state.params),
                                    rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(swept.rows[i]["final_validation_loss"], single.final["validation"]["loss"],
                                   rtol=1e-4)
    # Seeds differ: members are not copies of one another.
    assert not np.allclose(swept.params["hidden"]["kernel"][0], swept.params["hidden"]["kernel"][2])


def test_8_devices_train_the_same_params_as_1(tmp_path):
    def trained(num_devices):
        config = jaxdl.experiment(XorNet, xor_splits(), name="xor_devices", hparams=dict(dropout=0.2),
                                  overrides=[*SETTINGS, "train.epochs=2", f"train.num_devices={num_devices}"])
        return loop.train(config, str(tmp_path / f"d{num_devices}"), live=False)

    assert len(jax.devices()) >= 8, "conftest sets 8 fake CPU devices"
    one, eight = trained(1), trained(8)
    assert int(one.state.step) == int(eight.state.step) == 32
    # The batch is split over 8 devices and the gradient summed across them: the same
    # arithmetic in another order, so equal within float32 tolerance.
    chex.assert_trees_all_close(jax.device_get(eight.state.params), jax.device_get(one.state.params),
                                rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(eight.final["validation"]["loss"], one.final["validation"]["loss"], rtol=1e-4)


def test_the_same_code_run_again_on_other_data_replaces_its_experiment():
    # A notebook cell re-run after the data changed: the experiment is redefined, not a clash.
    small = jaxdl.experiment(XorNet, xor_splits(train=256), name="xor_rerun", overrides=SETTINGS)
    large = jaxdl.experiment(XorNet, xor_splits(train=512), name="xor_rerun", overrides=SETTINGS)
    assert small.data.name != large.data.name  # a content hash names each set of arrays
    assert experiments.get_config("xor_rerun").data.name == large.data.name


def test_a_model_argument_that_is_no_model_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"^a model is an nnx.Module class, a PureModel or an \(init, apply\) "
                                         r"pair of functions; got int$"):
        jaxdl.experiment(3, xor_splits())


def test_data_without_an_input_array_is_refused():
    labels = np.zeros(8, np.int32)
    with pytest.raises(ValueError, match=r"data has only \['label'\]: a model needs an input array"):
        jaxdl.experiment(XorNet, {"train": {"label": labels}})

