"""A sweep group's compiled programs, each vmapped over members: on-device data or streamed batches.

`DevicePrograms`: the split lives on device and an epoch is the single run's `scan_steps`, vmapped.
`StreamPrograms` (`data.on_device=false`, shared data order): each batch is read from the data
source once, on the host, and fed to every member of the chunk by one vmapped, jitted step. Its
batches are the ones the on-device shared order gathers (the same `steps.epoch_indices`), and its
evaluation runs over the same padded, masked batches with the same keys as `steps.evaluate_split`,
so a streaming sweep trains and scores what the on-device one does. A per-seed order would need
each member's own batches, one read per member: streaming sweeps take the shared order only.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import psutil

from jaxdl import data, parallel, rng
from jaxdl.train import feeds, optimizers, steps


def make_feed(config, mesh):
    """The train and eval splits: loaded onto the devices (`data.on_device`), else their data sources."""
    feed_cls = feeds.DeviceFeed if config.data.on_device else feeds.StreamFeed
    return feed_cls(
        config.data.name, dict.fromkeys(("train", *config.train.eval_splits)), mesh=mesh,
        data_dir=config.data.data_dir or None, max_train_examples=config.data.max_train_examples,
        eval_batch_size=config.data.eval_batch_size,
    )


def members_per_call(group, n_dev: int) -> int:
    """Members per call from the compiled memory of an `n_dev`-member epoch and evaluation of `group`."""
    state, keys = jax.eval_shape(group.init, group.member_arrays([group.members[0]] * n_dev))
    epoch = group.programs.epoch_memory(state, group.steps_per_epoch)
    if epoch is None:
        return len(group.members)  # no estimate from this backend
    # Training: the donated states become the new ones (outputs) beside the step's temporaries.
    need = [epoch.temp_size_in_bytes + epoch.output_size_in_bytes]
    splits = group.config.train.eval_splits  # their temporaries scale with the eval batch, not the split
    ev = group.programs.eval_memory(state.params, splits[0], keys["eval"]) if splits else None
    if ev is not None:  # evaluating: the states stay, beside the evaluation's temporaries and outputs
        state_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(state))
        need.append(state_bytes + ev.temp_size_in_bytes + ev.output_size_in_bytes)
    return max(n_dev, int(_memory_budget() // max(max(need) / n_dev, 1)))


def _memory_budget() -> float:
    """Half of what the first device has free (host RAM on CPU)."""
    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return 0.5 * (stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    return 0.5 * psutil.virtual_memory().available


class DevicePrograms:
    def __init__(self, group):
        self.feed, self.mesh, self.group = group.feed, group.mesh, group
        self.per_seed = group.data_order == "per_seed"
        task, eval_batch_size = group.task, group.config.data.eval_batch_size
        self._epoch = jax.jit(
            jax.vmap(lambda st, d, idx: steps.scan_steps(group.train_step, st, d, idx),
                     in_axes=(0, None, 0 if self.per_seed else None)),
            donate_argnums=0, out_shardings=group.member_sharding,
        )
        self._evaluate = jax.jit(jax.vmap(
            lambda p, d, k: steps.evaluate_split(group.eval_step, task, p, d, eval_batch_size, k),
            in_axes=(0, None, 0)))

    def epoch(self, state, idx):
        """(states, batch indices: each member's, or one shared (steps, batch) array) -> (states, metrics)."""
        if not self.per_seed:  # the same order on every process: each gives its (whole) copy
            idx = parallel.global_array(np.asarray(idx), parallel.replicated(self.mesh))
        return self._epoch(state, self.feed.arrays["train"], idx)

    def evaluate(self, params, split: str, keys):
        return self._evaluate(params, self.feed.arrays[split], keys)

    def epoch_memory(self, state, steps_per_epoch: int):
        """The compiled memory of an epoch of the members `state` (abstract)."""
        n, batch = state.step.shape[0], self.group.config.data.batch_size
        idx = jax.ShapeDtypeStruct((n, steps_per_epoch, batch) if self.per_seed else (steps_per_epoch, batch),
                                   jnp.int32)
        return self._epoch.lower(state, self.feed.arrays["train"], idx).compile().memory_analysis()

    def eval_memory(self, params, split: str, keys):
        """The compiled memory of evaluating the members `params` (abstract) on `split`."""
        return self._evaluate.lower(params, self.feed.arrays[split], keys).compile().memory_analysis()


class StreamPrograms:
    def __init__(self, group):
        self.feed, self.group = group.feed, group
        self.replicated = parallel.replicated(group.mesh)
        self._step = jax.jit(jax.vmap(group.train_step, in_axes=(0, None)), donate_argnums=0,
                             out_shardings=group.member_sharding)
        self._eval_step = jax.jit(jax.vmap(group.eval_step, in_axes=(0, None, 0)))
        self._fold_in = jax.jit(jax.vmap(jax.random.fold_in, in_axes=(0, None)))
        self._summarize = jax.jit(jax.vmap(group.task.summarize))

    def epoch(self, state, idx_SxB):
        metrics = []
        for idx_B in np.asarray(idx_SxB):
            state, step_metrics = self._step(state, self._batch("train", idx_B))
            metrics.append(step_metrics)
        return state, jax.tree.map(lambda *m: jnp.stack(m, axis=1), *metrics)  # (members, steps)

    def evaluate(self, params, split: str, keys):
        """Every member on every batch of `split`, read once (as `steps.evaluate_split` batches it)."""
        n = len(self.feed.sources[split])
        b = steps.eval_batch_size(n, self.group.config.data.eval_batch_size)
        totals = None
        for i, start in enumerate(range(0, n, b)):
            idx = np.arange(start, start + b)
            batch = self._batch(split, np.minimum(idx, n - 1))  # the padding rows are masked out
            batch["mask"] = parallel.global_array((idx < n).astype(np.float32), self.replicated)
            sums = self._eval_step(params, batch, self._fold_in(keys, i))
            if totals is None:  # float32 zeros first, as evaluate_split sums
                totals = jax.tree.map(lambda s: jnp.zeros(s.shape, jnp.float32), sums)
            totals = jax.tree.map(jnp.add, totals, sums)
        return self._summarize(totals)

    def epoch_memory(self, state, steps_per_epoch: int):
        batch = self.feed.example_batch("train", self.group.config.data.batch_size)
        return self._step.lower(state, batch).compile().memory_analysis()

    def eval_memory(self, params, split: str, keys):
        """The compiled memory of one evaluation batch of `split` for the members `params` (abstract)."""
        batch = self.feed.example_batch(split, self.group.config.data.eval_batch_size)
        batch["mask"] = jax.ShapeDtypeStruct((self.group.config.data.eval_batch_size,), jnp.float32)
        return self._eval_step.lower(params, batch, keys).compile().memory_analysis()

    def _batch(self, split: str, idx_B) -> dict:
        """The whole batch, on every device: each member needs all of it. Every process reads it."""
        records = self.feed.sources[split].__getitems__([int(i) for i in idx_B])
        decoded = data.decode_records(self.feed.dataset, records)
        return {k: parallel.global_array(v, self.replicated) for k, v in decoded.items()}


def train_epoch(group, state, member_keys, epoch: int, history: list[list[dict]], diverged: np.ndarray, progress):
    """Trains the chunk `state` (its first `len(history)` members real, the rest padding) through
    `epoch`; appends each real member's train metrics and evals to its `history`, flags the
    members whose loss went non-finite in `diverged`; returns the new states."""
    if group.data_order == "per_seed":
        idx = group.indices(member_keys["data"], epoch)
    else:
        idx = steps.epoch_indices(rng.streams(group.config.seed)["data"], epoch, group.feed.num_train,
                                  group.config.data.batch_size)
    take = min(group.steps_per_epoch, group.total_steps - (epoch - 1) * group.steps_per_epoch)
    state, metrics = group.programs.epoch(state, idx[..., :take, :])
    metrics = parallel.fetch(metrics)
    diverged |= ~np.isfinite(metrics["loss"]).all(axis=1)
    params = optimizers.eval_params(state.params, state.opt_state)  # the EMA when kept
    evals = {s: parallel.fetch(group.programs.evaluate(params, s, member_keys["eval"]))
             for s in group.config.train.eval_splits}
    step = int(parallel.fetch(state.step)[0])
    for i, member_history in enumerate(history):
        member_history.append({"epoch": epoch, "step": step, "train": {
            k: float(v[i].mean()) for k, v in metrics.items() if k != "grad_norm"},
            **{s: {k: float(v[i]) for k, v in e.items() if k != "count"} for s, e in evals.items()}})
    progress.update(take, {"loss": float(np.nanmean(metrics["loss"][: len(history)]))})
    return state
