"""Pure train and eval steps, and the scanned loops built from them.

`train_step(state, batch) -> (state, metrics)` is the unit everything else
composes: `run_steps` scans it over index batches into on-device data (the
fast path for data that fits in memory), the streaming path jits it alone.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from jaxdl.models import PureModel
from jaxdl.train.losses import LossFn, correct
from jaxdl.train.state import TrainState

Batch = dict[str, jax.Array]  # {"image": x_BxHxWxC, "label": y_B}
Metrics = dict[str, jax.Array]
TrainStep = Callable[[TrainState, Batch], tuple[TrainState, Metrics]]


def make_train_step(model: PureModel, loss_fn: LossFn, tx: optax.GradientTransformation) -> TrainStep:
    def train_step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        step_key = jax.random.fold_in(state.rng, state.step)

        def objective(params):
            logits_BxK = model.apply(params, batch["image"], key=step_key, train=True)
            return loss_fn(logits_BxK, batch["label"]).mean(), logits_BxK

        (loss, logits_BxK), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        new_state = state.replace(
            step=state.step + 1,
            params=optax.apply_updates(state.params, updates),
            opt_state=opt_state,
        )
        metrics = {
            "loss": loss,
            "accuracy": correct(logits_BxK, batch["label"]).mean(),
            "grad_norm": optax.tree.norm(grads),
        }
        return new_state, metrics

    return train_step


def make_eval_step(model: PureModel, loss_fn: LossFn):
    """(params, batch with optional 0/1 `mask`) -> summed loss, correct and count."""

    def eval_step(params, batch: Batch) -> Metrics:
        logits_BxK = model.apply(params, batch["image"], train=False)
        mask_B = batch.get("mask", jnp.ones(batch["label"].shape, jnp.float32))
        return {
            "loss": jnp.sum(loss_fn(logits_BxK, batch["label"]) * mask_B),
            "correct": jnp.sum(correct(logits_BxK, batch["label"]) * mask_B),
            "count": jnp.sum(mask_B),
        }

    return eval_step


def epoch_indices(data_key: jax.Array, epoch: int, num_examples: int, batch_size: int) -> jax.Array:
    """Shuffled example indices for `epoch`, shape (steps, batch); the remainder is dropped.

    A pure function of (data_key, epoch): both data paths, and a resumed run,
    see the same batches.
    """
    steps = num_examples // batch_size
    if steps == 0:
        raise ValueError(f"batch_size {batch_size} is larger than the {num_examples} training examples")
    perm = jax.random.permutation(jax.random.fold_in(data_key, epoch), num_examples)
    return perm[: steps * batch_size].reshape(steps, batch_size)


def make_run_steps(train_step: TrainStep, *, state_sharding=None, batch_sharding=None):
    """Jitted `(state, data, idx_SxB) -> (state, metrics_S)`: S steps in one `lax.scan`.

    `data` holds the whole split on device; each step gathers its batch. Given
    shardings (see `jaxdl.parallel`), each gathered batch is split over the mesh
    and the state keeps its sharding: the same step runs data-parallel.
    """

    def run_steps(state: TrainState, data: Batch, idx_SxB: jax.Array):
        return scan_steps(train_step, state, data, idx_SxB, batch_sharding)

    if state_sharding is None:
        return jax.jit(run_steps, donate_argnums=0)
    replicated = jax.sharding.NamedSharding(batch_sharding.mesh, jax.sharding.PartitionSpec())
    return jax.jit(run_steps, donate_argnums=0, out_shardings=(state_sharding, replicated))


def scan_steps(train_step: TrainStep, state: TrainState, data: Batch, idx_SxB: jax.Array,
               batch_sharding=None) -> tuple[TrainState, Metrics]:
    """S train steps as one `lax.scan`, gathering each batch from on-device `data` (unjitted,
    so a sweep can vmap it over members)."""

    def body(state, idx_B):
        return train_step(state, _constrain(jax.tree.map(lambda a: a[idx_B], data), batch_sharding))

    return jax.lax.scan(body, state, idx_SxB)


def _constrain(batch: Batch, sharding) -> Batch:
    return batch if sharding is None else jax.lax.with_sharding_constraint(batch, sharding)


def make_evaluate(model: PureModel, loss_fn: LossFn, batch_size: int, *, batch_sharding=None):
    """Jitted `(params, data) -> {"loss", "accuracy", ...}` over a whole on-device split."""
    eval_step = make_eval_step(model, loss_fn)
    return jax.jit(lambda params, data: evaluate_split(eval_step, params, data, batch_size, batch_sharding))


def evaluate_split(eval_step, params, data: Batch, batch_size: int, batch_sharding=None) -> Metrics:
    """`eval_step` scanned over `data` in padded, masked batches (unjitted, vmappable)."""
    n = data["label"].shape[0]
    steps = -(-n // batch_size)
    pad = steps * batch_size - n

    def batched(a):
        a = jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1))
        return a.reshape(steps, batch_size, *a.shape[1:])

    batches = jax.tree.map(batched, dict(data, mask=jnp.ones((n,), jnp.float32)))

    def body(totals, batch):
        sums = eval_step(params, _constrain(batch, batch_sharding))
        return jax.tree.map(jnp.add, totals, sums), None

    zeros = {"loss": 0.0, "correct": 0.0, "count": 0.0}
    totals, _ = jax.lax.scan(body, jax.tree.map(jnp.float32, zeros), batches)
    return summarize(totals)


def summarize(totals: Metrics) -> Metrics:
    """Mean loss and accuracy, keeping the counts (the book prints 'correct / count')."""
    return {
        "loss": totals["loss"] / totals["count"],
        "accuracy": totals["correct"] / totals["count"],
        "correct": totals["correct"],
        "count": totals["count"],
    }
