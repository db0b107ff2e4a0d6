"""`jaxdl.train.checks.check_task`: bad user code fails before any compile, in one line naming the problem."""

import os

import jax
import jax.numpy as jnp
import optax
import pytest

from jaxdl import cli, config as config_lib, experiments, sweep
from jaxdl.models import MODELS, register_model
from jaxdl.models.pure import PureModel
from jaxdl.sweep import runner
from jaxdl.tasks.base import Task
from jaxdl.train import checks, loop

BATCH = {"x": jax.ShapeDtypeStruct((8, 4), jnp.float32), "y": jax.ShapeDtypeStruct((8,), jnp.int32)}
KEY = jax.random.key(0)


def linear_init(key):
    return {"w": jax.random.normal(key, (4, 3)), "b": jnp.zeros(3)}


def linear_apply(params, x, *, key=None, train=False):
    return x @ params["w"] + params["b"][None, :]


def linear(init=linear_init, apply=linear_apply) -> PureModel:
    return PureModel("linear", {}, (4,), init, apply)


def cross_entropy_loss(model):
    def loss(params, batch, *, key, train):
        logits = model.apply(params, batch["x"], key=key, train=train)
        return optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"]).mean(), {
            "accuracy": jnp.mean(jnp.argmax(logits, -1) == batch["y"])}

    return loss


def cross_entropy_sums(model):
    def eval_sums(params, batch, mask_B, *, key):
        logits = model.apply(params, batch["x"])
        return {"loss": jnp.sum(optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"]) * mask_B),
                "count": jnp.sum(mask_B)}

    return eval_sums


def make_task(model=None, loss=None, eval_sums=None) -> Task:
    model = model or linear()
    return Task(model=model, loss=loss or cross_entropy_loss(model), eval_sums=eval_sums or cross_entropy_sums(model))


def rejected(task, *fragments) -> str:
    """Runs the check, asserting a one-line ValueError containing every fragment; returns the message."""
    with pytest.raises(ValueError) as raised:
        checks.check_task(task, BATCH, key=KEY)
    message = str(raised.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_a_good_task_passes_on_shapes_and_on_arrays():
    checks.check_task(make_task(), BATCH, key=KEY)
    checks.check_task(make_task(), {"x": jnp.ones((8, 4)), "y": jnp.zeros((8,), jnp.int32)}, key=KEY)


@pytest.mark.parametrize("apply", [
    lambda params, x, **kwargs: x @ params["w"],
    lambda params, x, *, masks=None, key=None, train=False: x @ params["w"],  # tasks may pass more (MADE)
], ids=["kwargs", "extra_keyword"])
def test_applies_that_accept_key_and_train_pass(apply):
    checks.check_task(make_task(linear(lambda key: {"w": jnp.ones((4, 3))}, apply)), BATCH, key=KEY)


@pytest.mark.parametrize("apply", [
    lambda params, x: x @ params["w"],
    lambda params, x, rngs, *, key=None, train=False: x @ params["w"],
    lambda x, *, key=None, train=False: x,
], ids=["no_key_or_train", "extra_positional", "no_params"])
def test_an_apply_with_the_wrong_signature_is_rejected(apply):
    rejected(make_task(linear(apply=apply)), "model 'linear'", "apply(params, x, *, key=None, train=False)",
             "got an apply with signature (")


@pytest.mark.parametrize("params, found", [
    ({"w": jnp.ones((4, 3)), "scale": 1.0}, "float at params['scale']"),
    ({"w": jnp.ones((4, 3)), "b": None}, "NoneType at params['b']"),
    ({"w": jnp.ones((4, 3)), "name": "linear"}, "str at params['name']"),
    ({"w": jnp.ones((4, 3), jnp.int32)}, "int32 at params['w']"),
    ({}, "got {}, which holds none"),
], ids=["python_float", "none", "str", "integer", "empty"])
def test_params_that_are_not_a_pytree_of_float_arrays_are_rejected(params, found):
    rejected(make_task(linear(init=lambda key: params)), "model 'linear': init(key) must return a pytree of "
             "floating-point arrays", found)


def test_an_init_that_fails_is_reported_in_one_line():
    rejected(make_task(linear(init=lambda key: {"w": jax.random.normal(key, (4, 3)) @ jnp.ones((4, 3))})),
             "model 'linear': init(key) failed: TypeError: dot_general requires contracting dimensions")


def test_a_loss_that_fails_while_tracing_names_the_batch_and_the_error():
    wide = linear(init=lambda key: {"w": jnp.ones((5, 3)), "b": jnp.zeros(3)})
    message = rejected(make_task(wide), "the loss failed on a batch of {'x': float32[8,4], 'y': int32[8]}: TypeError: ")
    assert "Traceback" not in message


def test_a_per_example_loss_is_rejected():
    def per_example(params, batch, *, key, train):
        logits = linear_apply(params, batch["x"])
        return optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"]), {}

    rejected(make_task(loss=per_example), "the loss must return (a floating-point scalar, a dict of metrics)",
             "got a loss of shape (8,)")


@pytest.mark.parametrize("returns, found", [
    (lambda loss: loss, "got a single array of shape ()"),
    (lambda loss: (loss, {}, {}), "got a 3-tuple"),
    (lambda loss: (loss, [loss]), "got metrics of type list"),
    (lambda loss: (loss, {"accuracy": jnp.ones(8)}), "got ['accuracy'] of shape (8,)"),
], ids=["bare_scalar", "triple", "metrics_list", "vector_metric"])
def test_a_loss_that_does_not_return_a_scalar_and_a_dict_is_rejected(returns, found):
    def loss(params, batch, *, key, train):
        return returns(jnp.mean(linear_apply(params, batch["x"])))

    rejected(make_task(loss=loss), "the loss", found)


@pytest.mark.parametrize("loss", [
    lambda params, batch, *, key, train: (0.0, {}),
    lambda params, batch, *, key, train: (jnp.mean(batch["x"]), {}),
    lambda params, batch, *, key, train: (jnp.mean(jax.lax.stop_gradient(linear_apply(params, batch["x"]))), {}),
    lambda params, batch, *, key, train: (
        jnp.mean(jnp.argmax(linear_apply(params, batch["x"]), -1) == batch["y"]).astype(jnp.float32), {}),
    lambda params, batch, *, key, train: (
        jnp.mean(jax.jit(lambda p, x: jax.lax.stop_gradient(linear_apply(p, x)))(params, batch["x"])), {}),
], ids=["constant", "batch_only", "stop_gradient", "through_argmax", "stop_gradient_inside_jit"])
def test_a_loss_without_a_gradient_path_to_the_params_is_rejected(loss):
    rejected(make_task(loss=loss), "the loss does not depend on the params (no gradient path)")


def test_a_loss_through_a_jitted_apply_or_a_scan_passes():
    def loss(params, batch, *, key, train):
        logits = jax.jit(linear_apply)(params, batch["x"])
        total, _ = jax.lax.scan(lambda c, row: (c + jnp.sum(row), None), 0.0, logits)
        return total, {}

    checks.check_task(make_task(loss=loss), BATCH, key=KEY)


@pytest.mark.parametrize("sums, found", [
    (lambda loss, mask: {"loss": loss}, "including 'count' (the sum of the mask); got ['loss']"),
    (lambda loss, mask: [loss, jnp.sum(mask)], "got list"),
    (lambda loss, mask: {"loss": loss * mask, "count": jnp.sum(mask)}, "got ['loss'] of shape (8,)"),
], ids=["no_count", "not_a_dict", "per_example"])
def test_eval_sums_without_a_count_or_with_non_scalar_sums_are_rejected(sums, found):
    def eval_sums(params, batch, mask_B, *, key):
        return sums(jnp.sum(linear_apply(params, batch["x"])), mask_B)

    rejected(make_task(eval_sums=eval_sums), "eval_sums", found)


@pytest.fixture
def bad_classifier():
    """Registers classification model 'unkeyed_linear', whose apply takes no key or train; yields its name."""

    def factory(input_shape, num_classes, **hparams):
        size = int(jnp.prod(jnp.asarray(input_shape)))
        return PureModel("unkeyed_linear", {}, tuple(input_shape),
                         lambda key: {"w": jnp.zeros((size, num_classes))},
                         lambda params, x: x.reshape(x.shape[0], -1) @ params["w"])

    register_model("classification", "unkeyed_linear", factory)
    yield "unkeyed_linear"
    del MODELS["classification/unkeyed_linear"]


def bad_config(data_dir, model_name):
    return config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [
        f"data.data_dir={data_dir}", f"model.name={model_name}", "train.num_steps=1"])


def test_train_rejects_a_bad_model_before_compiling_or_writing(tmp_path, data_dir, bad_classifier, monkeypatch):
    monkeypatch.setattr(loop.steps, "make_train_step", lambda *a, **k: pytest.fail("the train step was built"))
    config = bad_config(data_dir, bad_classifier)
    with pytest.raises(ValueError, match=r"model 'unkeyed_linear': the loop's tasks call apply\(params, x"):
        loop.train(config, str(tmp_path / "run"), live=False)
    assert not os.path.exists(tmp_path / "run" / "config.json")


def test_cli_train_turns_a_bad_model_into_exit_code_2_and_one_line(tmp_path, data_dir, bad_classifier, capsys):
    code = cli.main(["train", "mnist_mlp", "--workdir", str(tmp_path / "run"), "--set", f"data.data_dir={data_dir}",
                     "--set", f"model.name={bad_classifier}", "--set", "train.num_steps=1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("jaxdl: error: model 'unkeyed_linear'") and err.count("\n") == 1, err


def test_a_sweep_rejects_a_bad_model_before_compiling(data_dir, bad_classifier, monkeypatch):
    monkeypatch.setattr(runner.Group, "train", lambda *a: pytest.fail("the sweep compiled"))
    with pytest.raises(ValueError, match="model 'unkeyed_linear': the loop's tasks call apply"):
        sweep.run(bad_config(data_dir, bad_classifier), seeds=2, num_devices=1, live=False)


BAD_STEP_OPTIONS = {
    "train.grad_accum_steps=3": "train.grad_accum_steps=3 does not divide data.batch_size=128 into equal "
                                "microbatches; valid: 1, 2, 4, 8, 16, 32, 64, 128",
    "train.grad_accum_steps=0": r"train.grad_accum_steps must be an integer >= 1 \(1 = off\), got 0",
    "train.precision=float16": "unknown train.precision 'float16'; valid: float32, bfloat16",
    "train.ema_decay=1.0": r"train.ema_decay must be in \[0, 1\) \(0 = off\), got 1.0",
}


@pytest.mark.parametrize("override", BAD_STEP_OPTIONS)
def test_train_rejects_bad_step_options_before_compiling_or_writing(tmp_path, data_dir, monkeypatch, override):
    monkeypatch.setattr(loop.steps, "make_train_step", lambda *a, **k: pytest.fail("the train step was built"))
    config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [
        f"data.data_dir={data_dir}", "train.num_steps=1", override])
    with pytest.raises(ValueError, match=BAD_STEP_OPTIONS[override]):
        loop.train(config, str(tmp_path / "run"), live=False)
    assert not os.path.exists(tmp_path / "run")


def test_cli_and_sweep_reject_grad_accum_steps_not_dividing_the_batch(tmp_path, data_dir, capsys, monkeypatch):
    sets = ["--set", f"data.data_dir={data_dir}", "--set", "train.grad_accum_steps=3", "--set", "train.num_steps=1"]
    code = cli.main(["train", "mnist_mlp", "--workdir", str(tmp_path / "run"), *sets])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("jaxdl: error: train.grad_accum_steps=3 does not divide") and err.count("\n") == 1, err
    monkeypatch.setattr(runner.Group, "train", lambda *a: pytest.fail("the sweep compiled"))
    config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [
        f"data.data_dir={data_dir}", "train.grad_accum_steps=3", "train.num_steps=1"])
    with pytest.raises(ValueError, match="train.grad_accum_steps=3 does not divide data.batch_size=128"):
        sweep.run(config, seeds=2, num_devices=1, live=False)
