"""Image classification: a model's logits against integer labels ({"image", "label"} batches)."""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections

from jaxdl import data, models
from jaxdl.tasks import losses
from jaxdl.tasks.base import Task


def summarize(totals):
    """Mean loss and accuracy, keeping the counts (the book prints 'correct / count')."""
    return {
        "loss": totals["loss"] / totals["count"],
        "accuracy": totals["correct"] / totals["count"],
        "correct": totals["correct"],
        "count": totals["count"],
    }


def headline(m) -> str:
    return f"accuracy {m['accuracy']:.4f} ({m['correct']:.0f} / {m['count']:.0f}) loss {m['loss']:.4f}"


def build_model(config: ml_collections.ConfigDict) -> models.PureModel:
    """The config's `model.name` for its task, built for the dataset's input shape and class count."""
    spec = data.get_spec(config.data.name)
    if not spec.image_shape or not spec.num_classes:
        raise ValueError(f"the {config.task} task needs a dataset of inputs and integer labels (an image "
                         f"classification dataset, or your arrays with a 'label'); {spec.name!r} is not one")
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    return models.model_factory(config.task, config.model.name)(spec.image_shape, spec.num_classes, **hparams)


def input_key(config: ml_collections.ConfigDict) -> str:
    """The batch key holding the model's input: "image" for jaxdl's datasets, your arrays' own key."""
    return data.get_spec(config.data.name).meta.get("input_key", "image")


def from_model(model: models.PureModel, loss_fn: losses.LossFn, input_key: str = "image") -> Task:
    """Classification of `model`'s logits of `batch[input_key]` under the per-example cost `loss_fn`."""

    def loss(params, batch, *, key=None, train=False):
        # float32 losses under a bfloat16 train.precision (a no-op in float32)
        logits_BxK = model.apply(params, batch[input_key], key=key, train=train).astype(jnp.float32)
        return loss_fn(logits_BxK, batch["label"]).mean(), {
            "accuracy": losses.correct(logits_BxK, batch["label"]).mean()}

    def eval_sums(params, batch, mask_B, *, key=None):
        del key  # deterministic
        logits_BxK = model.apply(params, batch[input_key], train=False).astype(jnp.float32)
        return {
            "loss": jnp.sum(loss_fn(logits_BxK, batch["label"]) * mask_B),
            "correct": jnp.sum(losses.correct(logits_BxK, batch["label"]) * mask_B),
            "count": jnp.sum(mask_B),
        }

    return Task(model=model, loss=loss, eval_sums=eval_sums, summarize=summarize,
                monitor="accuracy", monitor_mode="max", headline=headline)


def make(config: ml_collections.ConfigDict) -> Task:
    return from_model(build_model(config), losses.make_loss(config.loss.name, config.loss.output), input_key(config))
