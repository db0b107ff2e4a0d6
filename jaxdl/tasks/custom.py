"""Your own task in a few lines: a per-example loss (and metrics) of the model's outputs.

    task = tasks.custom.supervised(lambda out_BxK, batch: optax.softmax_cross_entropy_with_integer_labels(
        out_BxK, batch["label"]), metrics={"accuracy": lambda out, b: out.argmax(-1) == b["label"]})

`supervised(...)` returns a task factory `(config) -> Task` to register (`register_task`) or pass
to `jaxdl.experiment(task=...)`: the model is the config's `model.name` registered for
the task, applied to `batch[input_key]`; train loss and metrics are batch means, evaluations sums
over the masked rows divided by their count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import ml_collections

from jaxdl import data, models
from jaxdl.tasks import classification
from jaxdl.tasks.base import Task, divide_by_count

PerExample = Callable[[jax.Array, dict], jax.Array]  # (outputs, batch) -> one value per example


def supervised(loss: PerExample, *, metrics: Mapping[str, PerExample] | None = None, input_key: str | None = None,
               monitor: str = "loss", monitor_mode: str = "min") -> Callable[[ml_collections.ConfigDict], Task]:
    """The task factory of a per-example `loss` and `metrics` of `model.apply(params, batch[input_key])`."""
    metrics = dict(metrics or {})
    if monitor != "loss" and monitor not in metrics:
        raise ValueError(f"monitor {monitor!r} is neither 'loss' nor one of the metrics {sorted(metrics)}")

    def make(config: ml_collections.ConfigDict) -> Task:
        key_in = input_key or classification.input_key(config)
        model = _build_model(config, key_in)

        def per_example(params, batch, key, train):
            # float32 losses under a bfloat16 train.precision (a no-op in float32)
            outputs = jax.tree.map(lambda o: o.astype(jnp.float32) if jnp.issubdtype(o.dtype, jnp.floating) else o,
                                   model.apply(params, batch[key_in], key=key, train=train))
            return loss(outputs, batch), {name: fn(outputs, batch) for name, fn in metrics.items()}

        def task_loss(params, batch, *, key=None, train=False):
            values, extra = per_example(params, batch, key, train)
            return jnp.mean(values), {name: jnp.mean(v.astype(jnp.float32)) for name, v in extra.items()}

        def eval_sums(params, batch, mask_B, *, key=None):
            values, extra = per_example(params, batch, key, False)
            sums = {name: jnp.sum(v.astype(jnp.float32) * mask_B) for name, v in extra.items()}
            return {"loss": jnp.sum(values * mask_B), **sums, "count": jnp.sum(mask_B)}

        def headline(m) -> str:
            return " ".join(f"{name} {float(m[name]):.4f}" for name in ("loss", *metrics))

        return Task(model=model, loss=task_loss, eval_sums=eval_sums, summarize=divide_by_count,
                    monitor=monitor, monitor_mode=monitor_mode, headline=headline)

    # Named after the loss ("mymodule:supervised(my_loss)"): config.json's sources and the task
    # registry's origins then say whose task it is, and another loss under a taken name is a clash.
    make.__module__ = getattr(loss, "__module__", None) or make.__module__
    make.__qualname__ = f"supervised({getattr(loss, '__qualname__', type(loss).__qualname__)})"
    return make


def _build_model(config: ml_collections.ConfigDict, key_in: str):
    """The config's model for the shape of `batch[key_in]`; unlike a classifier's, the data need no labels
    (a regression target, say): the class count is the labels' when there are any, else 0."""
    spec = data.get_spec(config.data.name)
    if spec.arrays is None:  # a jaxdl dataset: its own input shape and classes
        return classification.build_model(config)
    if key_in not in spec.arrays["train"]:
        raise ValueError(f"the {config.task} task reads batch[{key_in!r}], but {spec.name!r} has keys "
                         f"{sorted(spec.arrays['train'])}")
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    shape = spec.arrays["train"][key_in].shape[1:]
    return models.model_factory(config.task, config.model.name)(shape, spec.num_classes, **hparams)
