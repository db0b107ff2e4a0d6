"""Pure train and eval steps, and the scanned loops built from them.

`train_step(state, batch) -> (state, metrics)` is the unit everything else
composes: `run_steps` scans it over index batches into on-device data (the
fast path for data that fits in memory), the streaming path jits it alone.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from jaxdl.tasks import Batch, Metrics, Task
from jaxdl.train import precision as precision_lib
from jaxdl.train.state import TrainState

TrainStep = Callable[[TrainState, Batch], tuple[TrainState, Metrics]]


def step_options(train) -> dict:
    """`make_train_step`'s keyword options from a config's train section."""
    return {"precision": train.get("precision", "float32"),
            "grad_accum_steps": int(train.get("grad_accum_steps", 1))}


def make_train_step(task: Task, tx: optax.GradientTransformation, *, precision: str = "float32",
                    grad_accum_steps: int = 1) -> TrainStep:
    """One optimiser step on `task.loss`; its randomness comes from (state.rng, state.step).

    `precision` is the mixed-precision policy (`jaxdl.train.precision`). With
    `grad_accum_steps=k > 1` the batch is split into k microbatches (rows i, i+k, i+2k... form
    microbatch i, so each stays spread over the mesh's data axis), scanned one at a time, and
    their gradients and metrics averaged before the one update: for a per-example mean loss,
    the same step as on the whole batch with 1/k of its activations. Microbatch i draws its
    dropout from fold_in(step key, i).
    """
    loss_fn = precision_lib.compute_loss(task.loss, precision)

    def grads_and_metrics(params, batch: Batch, key: jax.Array):
        (loss, metrics), grads = jax.value_and_grad(
            lambda params: loss_fn(params, batch, key=key, train=True), has_aux=True
        )(params)
        return grads, {"loss": loss, **metrics}

    def accumulated(params, batch: Batch, step_key: jax.Array):
        # (B, ...) -> (B/k, k, ...) is free, keeps the example axis split over the mesh, and
        # microbatch i is the slice [:, i]: only one microbatch is ever copied.
        rows_BkxK = jax.tree.map(lambda a: a.reshape(-1, grad_accum_steps, *a.shape[1:]), batch)

        def microbatch(i):
            return jax.tree.map(lambda a: jax.lax.dynamic_index_in_dim(a, i, axis=1, keepdims=False), rows_BkxK)

        def body(totals, i):
            out = grads_and_metrics(params, microbatch(i), jax.random.fold_in(step_key, i))
            return jax.tree.map(jnp.add, totals, out), None

        zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(
            grads_and_metrics, params, microbatch(0), step_key))
        totals, _ = jax.lax.scan(body, zeros, jnp.arange(grad_accum_steps))
        return jax.tree.map(lambda t: t / grad_accum_steps, totals)

    def train_step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        step_key = jax.random.fold_in(state.rng, state.step)
        if grad_accum_steps == 1:
            grads, metrics = grads_and_metrics(state.params, batch, step_key)
        else:
            grads, metrics = accumulated(state.params, batch, step_key)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        new_state = state.replace(
            step=state.step + 1,
            params=optax.apply_updates(state.params, updates),
            opt_state=opt_state,
        )
        return new_state, {**metrics, "grad_norm": grad_norm(grads)}

    return train_step


def grad_norm(grads) -> jax.Array:
    """The global L2 norm of `grads`, `optax.tree.norm`'s value within float32 rounding."""
    return jnp.sqrt(optax.tree.sum(jax.tree.map(_sum_of_squares, grads)))


def _sum_of_squares(g: jax.Array) -> jax.Array:
    # |g| * |g| rather than g * g: XLA would otherwise merge it with the g ** 2 of Adam's second
    # moment and write every squared gradient out and read it back.
    sq = jnp.abs(g) * jnp.abs(g)
    if g.size < 4096 or jax.default_backend() != "cpu":
        return jnp.sum(sq)
    # XLA:CPU turns a large sum into a tree of 32-wide reduce-windows that reads ~6 GB/s (a
    # quarter of the MLP's Adam update); a product with a ones vector reads at memory speed.
    # The barrier keeps XLA from folding the product back into that sum.
    ones_K = jax.lax.optimization_barrier(jnp.ones(g.shape[-1:], g.dtype))
    return jnp.sum(jnp.einsum("...k,k->...", sq, ones_K, preferred_element_type=jnp.float32))


def make_eval_step(task: Task):
    """(params, batch with optional 0/1 `mask`, key) -> the task's sums over the batch."""

    def eval_step(params, batch: Batch, key: jax.Array) -> Metrics:
        batch = dict(batch)
        mask_B = batch.pop("mask", None)
        if mask_B is None:
            mask_B = jnp.ones(jax.tree.leaves(batch)[0].shape[:1], jnp.float32)
        return task.eval_sums(params, batch, mask_B, key=key)

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


def make_evaluate(task: Task, batch_size: int, *, batch_sharding=None):
    """Jitted `(params, data, key) -> metrics` over a whole on-device split."""
    eval_step = make_eval_step(task)
    return jax.jit(lambda params, data, key: evaluate_split(
        eval_step, task, params, data, batch_size, key, batch_sharding))


def eval_batch_size(num_examples: int, batch_size: int, shards: int = 1) -> int:
    """The batch a split of `num_examples` is evaluated in: `batch_size`, or, when the whole split
    fits in one batch, the split rounded up to a multiple of the `shards` the batch is split over
    (a 500-example split is not padded to a batch of 1000 and evaluated twice over)."""
    return min(batch_size, -(-num_examples // shards) * shards)


def evaluate_split(eval_step, task: Task, params, data: Batch, batch_size: int, key: jax.Array,
                   batch_sharding=None) -> Metrics:
    """`eval_step` scanned over `data` in padded, masked batches (unjitted, vmappable).

    Batch i's key is `fold_in(key, i)`: a stochastic evaluation is the same every time."""
    n = jax.tree.leaves(data)[0].shape[0]
    shards = 1 if batch_sharding is None else batch_size // batch_sharding.shard_shape((batch_size,))[0]
    batch_size = eval_batch_size(n, batch_size, shards)
    steps = -(-n // batch_size)
    pad = steps * batch_size - n

    def batched(a):
        a = jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1))
        return a.reshape(steps, batch_size, *a.shape[1:])

    batches = jax.tree.map(batched, dict(data, mask=jnp.ones((n,), jnp.float32)))

    def body(totals, i_and_batch):
        i, batch = i_and_batch
        sums = eval_step(params, _constrain(batch, batch_sharding), jax.random.fold_in(key, i))
        return jax.tree.map(jnp.add, totals, sums), None

    first = jax.tree.map(lambda a: a[0], batches)
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, jnp.float32), jax.eval_shape(
        lambda: eval_step(params, first, key)))
    totals, _ = jax.lax.scan(body, zeros, (jnp.arange(steps), batches))
    return task.summarize(totals)
