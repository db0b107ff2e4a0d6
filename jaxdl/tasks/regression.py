"""Regression on a scalar target `y`: MSE loss, RMSE and MAE reported (ratings, log prices).

Batches hold the model's input under "x" (or, for a model taking a dict of
inputs, under the dict's keys) and the target under "y". L2 / weight decay
come from the optimiser config (`optimizer.l2`, `optimizer.name=adamw`); for
collaborative filtering `penalty.l2_per_rating` adds Funk's per-rating penalty
(`jaxdl.models.cf.used_rows_sq_norm`) to the training loss, and `penalty.l2_bias`
an L2 penalty on the whole user and item bias vectors (`optimizer.l2` covers only
weights with ndim >= 2, i.e. the embedding tables).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxdl import data
from jaxdl.models import PureModel, cf, model_factory
from jaxdl.tasks.base import Task


def summarize(totals):
    mse = totals["sq_err"] / totals["count"]
    return {"loss": mse, "rmse": jnp.sqrt(mse), "mae": totals["abs_err"] / totals["count"],
            "count": totals["count"]}


def headline(m) -> str:
    return f"rmse {float(m['rmse']):.4f} mae {float(m['mae']):.4f}"


def model_inputs(model: PureModel, batch) -> Any:
    if isinstance(model.input_shape, dict):
        return {k: batch[k] for k in model.input_shape}
    return batch["x"]


def build_model(config: ml_collections.ConfigDict) -> PureModel:
    """`config.model.name` sized by the dataset's spec; `center_on_mean` centres it on the
    dataset's mean training target."""
    factory = model_factory("regression", config.model.name)
    spec = data.get_spec(config.data.name)
    hparams = {k: v for k, v in config.model.items() if k not in ("name", "center_on_mean")}
    center = spec.meta.get("train_mean") if config.model.get("center_on_mean", False) else None
    return factory(spec, center=center, **hparams)


def from_model(model: PureModel, l2_per_rating: float = 0.0, l2_bias: float = 0.0) -> Task:
    if l2_per_rating < 0:
        raise ValueError(f"l2_per_rating must be >= 0, got {l2_per_rating}")
    if l2_per_rating and model.name not in ("cf_dot", "cf_split"):
        raise ValueError(f"l2_per_rating applies to collaborative filtering models, not {model.name!r}")
    if l2_bias and not model.hparams.get("biases", model.name == "cf_dot"):
        raise ValueError(f"l2_bias needs the user/item biases of cf_dot (biases=True); {model.name!r} has none")

    def loss(params, batch, *, key=None, train=False):
        # float32 errors under a bfloat16 train.precision (a no-op in float32)
        err_B = model.apply(params, model_inputs(model, batch), key=key, train=train).astype(jnp.float32) - batch["y"]
        mse = jnp.mean(err_B**2)
        total = mse
        if l2_per_rating:
            total = mse + l2_per_rating * jnp.mean(cf.used_rows_sq_norm(params, batch["x"]))
        if l2_bias:
            total = total + 0.5 * l2_bias * (jnp.sum(params["user_bias"] ** 2) + jnp.sum(params["item_bias"] ** 2))
        return total, {"mse": mse, "mae": jnp.mean(jnp.abs(err_B))}

    def eval_sums(params, batch, mask_B, *, key=None):
        del key  # deterministic
        err_B = model.apply(params, model_inputs(model, batch), train=False).astype(jnp.float32) - batch["y"]
        return {"sq_err": jnp.sum(err_B**2 * mask_B), "abs_err": jnp.sum(jnp.abs(err_B) * mask_B),
                "count": jnp.sum(mask_B)}

    return Task(model=model, loss=loss, eval_sums=eval_sums, summarize=summarize,
                monitor="rmse", monitor_mode="min", headline=headline)


def make(config: ml_collections.ConfigDict) -> Task:
    return from_model(build_model(config), float(config.get("penalty", {}).get("l2_per_rating", 0.0)),
                      float(config.get("penalty", {}).get("l2_bias", 0.0)))


def predict_ratings(model: PureModel, params, user_index: dict[int, int], item_index: dict[int, int],
                    user_ids, item_ids, *, unknown: str = "error", fallback: float | None = None) -> np.ndarray:
    """Ratings for original (user id, item id) pairs, through the dense-index maps.

    An id absent from the maps (never seen when the dataset was built) raises a
    ValueError naming it (`unknown="error"`), or gets `fallback`, e.g. the
    training mean (`unknown="mean"`).
    """
    if unknown not in ("error", "mean"):
        raise ValueError(f"unknown must be 'error' or 'mean', got {unknown!r}")
    if unknown == "mean" and fallback is None:
        raise ValueError("unknown='mean' needs the fallback rating (e.g. the training mean)")
    users = np.asarray([user_index.get(int(u), -1) for u in user_ids])
    items = np.asarray([item_index.get(int(i), -1) for i in item_ids])
    known = (users >= 0) & (items >= 0)
    if unknown == "error" and not known.all():
        bad = int(np.flatnonzero(~known)[0])
        what = f"user id {user_ids[bad]}" if users[bad] < 0 else f"item id {item_ids[bad]}"
        raise ValueError(f"{what} is not in the dataset's id map; pass unknown='mean' with a fallback "
                         f"rating (the training mean) to predict it anyway")
    x_Bx2 = np.stack([np.where(known, users, 0), np.where(known, items, 0)], axis=1).astype(np.int32)
    pred_B = np.asarray(jax.jit(model.apply)(params, x_Bx2))
    return np.where(known, pred_B, fallback if fallback is not None else np.nan)
