"""tasks.custom.supervised: a task from your per-example loss and metrics (here a regression on
data without labels) trains through the shared loop and logs its metrics like jaxdl's own tasks."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import jaxdl
from jaxdl import tasks
from jaxdl.tasks import custom

# What these tests register (their own models, data, experiments) is gone after each.
pytestmark = pytest.mark.usefixtures("forget_registrations")


class Regressor(nnx.Module):
    """3 inputs -> one number per example."""

    def __init__(self, width=32, *, rngs):
        self.hidden = nnx.Linear(3, width, rngs=rngs)
        self.out = nnx.Linear(width, 1, rngs=rngs)

    def __call__(self, x, *, train=False, rngs=None):
        return self.out(jnp.tanh(self.hidden(x)))[:, 0]


def wave(n, seed):
    """target = sin(2 x0) + x1 x2 for x uniform in [-1, 1]^3: variance about 0.7, no noise."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 3)).astype(np.float32)
    return {"x": x, "target": np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2]}


def squared_error(out_B, batch):
    return (out_B - batch["target"]) ** 2


MSE_TASK = custom.supervised(squared_error, metrics={"abs_error": lambda out_B, b: jnp.abs(out_B - b["target"])})


def test_a_user_loss_trains_a_regression_and_its_metrics_reach_metrics_jsonl(tmp_path):
    # 250 validation rows in evaluation batches of 100: the last batch is padded, and the
    # padded rows must not count.
    splits = {"train": wave(1024, 0), "validation": wave(250, 1)}
    result = jaxdl.fit(Regressor, splits, task=MSE_TASK, name="wave", workdir=str(tmp_path / "run"),
                       overrides=["train.epochs=10", "data.batch_size=64", "data.eval_batch_size=100",
                                  "optimizer.learning_rate=1e-2", "train.num_devices=1",
                                  "train.checkpoint_every_steps=-1", "train.progress_updates_per_epoch=1"])
    # Predicting the mean scores the target's variance (~0.7); 160 Adam steps measured 0.015 on CPU.
    assert result.final["validation"]["loss"] < 0.15

    model = tasks.make(jaxdl.experiment(Regressor, splits, task=MSE_TASK, name="wave")).model
    x, target = splits["validation"]["x"], splits["validation"]["target"]
    by_hand = jax.device_get(model.apply(result.state.params, x))
    np.testing.assert_allclose(result.final["validation"]["loss"], np.mean((by_hand - target) ** 2), rtol=1e-5)
    np.testing.assert_allclose(result.final["validation"]["abs_error"], np.mean(np.abs(by_hand - target)),
                               rtol=1e-5)
    assert result.final["validation"]["count"] == 250

    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["split"]) for r in records] == [(0, "model")] + [
        (e, s) for e in range(1, 11) for s in ("train", "validation")]
    assert all({"loss", "abs_error"} <= r.keys() for r in records[1:])
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    # The task's source names the loss it was built from, not jaxdl's factory.
    assert saved["task"] == "wave_task" and saved["sources"]["task"] == f"{__name__}:supervised(squared_error)"


def test_a_monitor_that_is_no_metric_is_refused():
    with pytest.raises(ValueError, match=r"^monitor 'r2' is neither 'loss' nor one of the metrics \['abs_error'\]$"):
        custom.supervised(squared_error, metrics={"abs_error": squared_error}, monitor="r2")


def test_an_input_key_the_data_lacks_is_refused_naming_the_keys():
    task = custom.supervised(squared_error, input_key="inputs")
    config = jaxdl.experiment(Regressor, {"train": wave(64, 0)}, task=task, name="wave_inputs")
    with pytest.raises(ValueError, match=r"reads batch\['inputs'\], but 'arrays_\w+' has keys \['target', 'x'\]$"):
        tasks.make(config)
