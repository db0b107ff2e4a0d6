"""Train every member of a sweep (seeds x hyperparameters) as one vmapped, jitted program.

A member is `(seed, initialiser, init scale, injected optimiser hyperparameters)`.
Its TrainState is built by the same `create` path as a single run, vmapped:
params come from `lax.switch` over the initialiser choices and are scaled by the
member's init scale (every jaxdl initialiser is `scale * base(key)`), and the
hyperparameters are written into the `inject_hyperparams` state. An epoch is
the single run's `scan_steps`, vmapped over members; members never interact,
so a diverging one (NaN) cannot poison the others.

Members are trained in chunks sized to fit memory; on several devices the
member axis of each chunk is split over an `ensemble` mesh axis.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import psutil
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxdl import config as config_lib, parallel, rng, tasks
from jaxdl.sweep import grid as grid_lib, results
from jaxdl.train import checks, feeds, optimizers, steps, workdir as wd
from jaxdl.train.progress import Progress
from jaxdl.train.state import TrainState

ENSEMBLE = "ensemble"
DATA_ORDERS = ("per_seed", "shared")



def run(
    config: ml_collections.ConfigDict, *, seeds: int | Sequence[int] = 1, grid: dict[str, list] | None = None,
    workdir: str | None = None, chunk_size: int = 0, data_order: str = "per_seed", num_devices: int = 0,
    keep_params: bool = False, live: bool | None = None, samples: int = 0, space: dict | None = None,
    search: str = "random", search_seed: int | None = None,
) -> results.SweepResult:
    """Trains `seeds x samples x grid` members of `config`; writes results to `workdir` if given.

    `space` ({key: "loguniform(1e-4,1e-1)"-style text or a `search.Distribution}`) is sampled at
    `samples` points by `search` (random, sobol, halton) from `search_seed` (default `config.seed`).

    `data_order="per_seed"`: each member shuffles with its own seed's data key (as a single
    run with that seed would); `"shared"`: all members see `config.seed`'s order.
    `chunk_size=0` picks the number of members per compiled call from a memory estimate.
    Members are split over `num_devices` devices (0 = all) along an `ensemble` mesh axis.
    """
    grid = dict(grid or {})
    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    space = grid_lib.parse_space(config, space or {})
    members = grid_lib.members(config, seeds, grid, space, samples, search, search_seed)
    if data_order not in DATA_ORDERS:
        raise ValueError(f"unknown data order '{data_order}'; valid: {', '.join(DATA_ORDERS)}")
    if not config.data.on_device:
        raise ValueError("sweeps train on on-device data: set data.on_device=true")
    parallel.start(config.train.get("cpu_devices", 0))  # before anything starts the backend
    if workdir and parallel.is_lead():
        wd.prepare(workdir, config)
        with open(os.path.join(workdir, "sweep.json"), "w") as f:
            json.dump({"seeds": seeds, "grid": grid, "data_order": data_order, "samples": samples,
                       "space": {k: str(d) for k, d in space.items()}, "search": search,
                       "search_seed": config.seed if search_seed is None else search_seed}, f, indent=2)

    devices = jax.devices()[: num_devices or None]
    mesh = Mesh(np.asarray(devices), (ENSEMBLE,))
    feed = feeds.DeviceFeed(
        config.data.name, dict.fromkeys(("train", *config.train.eval_splits)), mesh=mesh,
        data_dir=config.data.data_dir or None, max_train_examples=config.data.max_train_examples,
        eval_batch_size=config.data.eval_batch_size,
    )
    start = time.perf_counter()
    rows, curves, member_steps, params = [], [], 0, []
    groups = []
    for batch_size in dict.fromkeys(m.get("data.batch_size", config.data.batch_size) for m in members):
        group = [m for m in members if m.get("data.batch_size", config.data.batch_size) == batch_size]
        group_config = config_lib.apply_overrides(config, [f"data.batch_size={batch_size}"])
        groups.append(Group(group_config, group, feed, mesh, data_order))  # each checks its task
    for g in groups:
        g_rows, g_curves, g_params = g.train(chunk_size, live, keep_params)
        rows += g_rows
        curves += g_curves
        params += g_params
        member_steps += len(g.members) * g.total_steps
    result = results.SweepResult(rows, curves, [*space, *grid], time.perf_counter() - start, member_steps,
                                 monitor=g.task.monitor)
    if keep_params:
        # Groups may differ in batch size only, so their params stack into one tree.
        result.params = jax.tree.map(lambda *p: np.concatenate(p), *params)
    if workdir and parallel.is_lead():
        results.write(result, workdir)
    return result


class _Programs(NamedTuple):
    """A group's jitted functions, each vmapped over members."""

    init: Callable  # member arrays -> (states, their data and eval keys)
    epoch: Callable  # (states, train arrays, batch indices) -> (states, per-step metrics)
    evaluate: Callable  # (params, a split's arrays, eval keys) -> the split's metrics
    indices: Callable  # (data keys, epoch) -> each member's batch order


class Group:
    """Members that share a batch size, hence one compiled program."""

    def __init__(self, config, members, feed, mesh, data_order):
        self.config, self.members, self.feed, self.mesh = config, members, feed, mesh
        self.member_sharding = NamedSharding(mesh, P(ENSEMBLE))
        self.data_order = data_order
        self.steps_per_epoch = feed.num_train // config.data.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(f"data.batch_size={config.data.batch_size} exceeds the {feed.num_train} examples")
        self.total_steps = config.train.num_steps or config.train.epochs * self.steps_per_epoch
        hparams = {k: v for k, v in config.model.items() if k != "name"}
        self.inits = sorted({m.get("model.kernel_init", config.model.get("kernel_init")) for m in members},
                            key=str)
        # Scale 1 here; each member's scale multiplies the drawn weights (see module doc).
        unit = {k: 1.0 for k in ("init_scale", "bias_scale") if k in hparams}
        self.tasks = [tasks.make(_with_model(config, {**unit, **({"kernel_init": k} if k is not None else {})}))
                      for k in self.inits]
        self.task = self.tasks[0]  # members differ in params only: one step serves them all
        checks.check_task(self.task, feed.example_batch("train", config.data.batch_size),
                          key=rng.streams(config.seed)["dropout"])
        self.models = [t.model for t in self.tasks]
        swept = {grid_lib.OPTIMIZER_AXES.get(k) for m in members for k in m}
        self.tx = optimizers.make_optimizer(config.optimizer, total_steps=self.total_steps,
                                            inject=tuple(n for n in optimizers.INJECTABLE if n in swept))
        self.train_step = steps.make_train_step(self.task, self.tx)
        opt_state = jax.eval_shape(lambda: self.tx.init(self.models[0].init(jax.random.key(0))))
        self.injected = {n for n in grid_lib.OPTIMIZER_AXES.values() if optax.tree.get(opt_state, n) is not None}
        self.eval_step = steps.make_eval_step(self.task)

    def member_arrays(self, members) -> dict[str, jax.Array]:
        """The members' varying values as arrays with a leading member axis."""
        model = self.config.model

        def column(key: str, default, dtype):
            return jnp.asarray([m.get(key, default) for m in members], dtype)

        kernel_inits = [m.get("model.kernel_init", model.get("kernel_init")) for m in members]
        return {
            "seed": column("seed", self.config.seed, jnp.int32),
            "init_index": jnp.asarray([self.inits.index(k) for k in kernel_inits], jnp.int32),
            "init_scale": column("model.init_scale", model.get("init_scale", 1.0), jnp.float32),
            "bias_scale": column("model.bias_scale", model.get("bias_scale", 1.0), jnp.float32),
            "hparams": {name: column(key, self.config[key], jnp.float32)
                        for key, name in grid_lib.OPTIMIZER_AXES.items() if name in self.injected},
        }

    def init_member(self, m: dict[str, jax.Array]) -> tuple[TrainState, dict[str, jax.Array]]:
        keys = rng.streams(m["seed"])
        params = jax.lax.switch(m["init_index"], [model.init for model in self.models], keys["init"])
        params = _scale(params, m["init_scale"], m["bias_scale"])
        opt_state = self.tx.init(params)
        for name, value in m["hparams"].items():
            old = optax.tree.get(opt_state, name)
            opt_state = optax.tree.set(opt_state, **{name: value.astype(old.dtype)})
        state = TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=opt_state, rng=keys["dropout"])
        return state, {"data": keys["data"], "eval": keys["eval"]}

    def train(self, chunk_size: int, live, keep_params: bool = False) -> tuple[list, list, list]:
        """Trains the group chunk by chunk; returns rows, curves and (if kept) params per chunk."""
        n_dev = self.mesh.shape[ENSEMBLE]
        shared_key = rng.streams(self.config.seed)["data"]
        batch = self.config.data.batch_size
        programs = self._compile()
        chunk = chunk_size or self._auto_chunk(programs, n_dev)
        chunk = min(_round_up(max(chunk, 1), n_dev), _round_up(len(self.members), n_dev))
        epochs = math.ceil(self.total_steps / self.steps_per_epoch)
        progress = Progress(
            epochs * self.steps_per_epoch * math.ceil(len(self.members) / chunk),
            f"sweep {self.config.experiment} b{batch}", examples_per_step=batch * chunk, live=live,
            lead=parallel.is_lead())
        progress.message(f"{len(self.members)} members, {chunk} per compiled call, {epochs} epochs")
        rows, curves, kept = [], [], []
        for lo in range(0, len(self.members), chunk):
            real = self.members[lo : lo + chunk]
            state, history, diverged = self._train_chunk(programs, real, chunk, epochs, shared_key, progress)
            if keep_params:
                kept.append(jax.tree.map(lambda p: np.asarray(p)[: len(real)], parallel.fetch(state.params)))
            for i, m in enumerate(real):
                row, member_curves = results.summarize(m, batch, history[m["member"]], diverged[i], self.task)
                rows.append(row)
                curves += member_curves
            best = results.best_member(rows[-len(real):], self.task)
            progress.message(
                f"members {lo}-{lo + len(real) - 1}: {int(diverged[: len(real)].sum())} diverged"
                + (f"; best member {best['member']} " + results.format_finals(best, self.task.monitor) if best else ""))
        progress.close()
        return rows, curves, kept

    def _compile(self) -> _Programs:
        """The group's jitted programs, vmapped over members."""
        per_seed = self.data_order == "per_seed"
        n, batch = self.feed.num_train, self.config.data.batch_size
        init_fn = jax.jit(jax.vmap(self.init_member), out_shardings=self.member_sharding)
        epoch_fn = jax.jit(
            jax.vmap(lambda st, d, idx: steps.scan_steps(self.train_step, st, d, idx),
                     in_axes=(0, None, 0 if per_seed else None)),
            donate_argnums=0, out_shardings=self.member_sharding,
        )
        eval_fn = jax.jit(jax.vmap(
            lambda p, d, k: steps.evaluate_split(self.eval_step, self.task, p, d, self.config.data.eval_batch_size, k),
            in_axes=(0, None, 0)))
        # The epoch is traced (it only enters fold_in): one compile for every epoch.
        indices = jax.jit(jax.vmap(lambda k, e: steps.epoch_indices(k, e, n, batch), in_axes=(0, None)))
        return _Programs(init_fn, epoch_fn, eval_fn, indices)

    def _train_chunk(self, programs: _Programs, real: list[dict], chunk: int, epochs: int, shared_key: jax.Array,
                     progress: Progress) -> tuple[TrainState, dict[int, list[dict]], np.ndarray]:
        """Trains the members `real`, padded to `chunk`: their states, per-epoch evals, and which diverged."""
        per_seed = self.data_order == "per_seed"
        n, batch = self.feed.num_train, self.config.data.batch_size
        padded = real + [real[-1]] * (chunk - len(real))  # fixed shapes: one compile
        state, member_keys = programs.init(self.member_arrays(padded))
        history = {m["member"]: [] for m in real}
        diverged = np.zeros(len(padded), bool)
        for epoch in range(1, epochs + 1):
            if per_seed:
                idx = programs.indices(member_keys["data"], epoch)
            else:
                idx = steps.epoch_indices(shared_key, epoch, n, batch)
            take = min(self.steps_per_epoch, self.total_steps - (epoch - 1) * self.steps_per_epoch)
            idx = idx[..., :take, :]
            if not per_seed:  # the same order on every process: each gives its (whole) copy
                idx = parallel.global_array(np.asarray(idx), parallel.replicated(self.mesh))
            state, metrics = programs.epoch(state, self.feed.arrays["train"], idx)
            metrics = parallel.fetch(metrics)
            diverged |= ~np.isfinite(metrics["loss"]).all(axis=1)
            evals = {s: parallel.fetch(programs.evaluate(state.params, self.feed.arrays[s], member_keys["eval"]))
                     for s in self.config.train.eval_splits}
            step = int(parallel.fetch(state.step)[0])
            for i, m in enumerate(real):
                history[m["member"]].append({"epoch": epoch, "step": step, "train": {
                    k: float(v[i].mean()) for k, v in metrics.items() if k != "grad_norm"},
                    **{s: {k: float(v[i]) for k, v in e.items() if k != "count"}
                       for s, e in evals.items()}})
            progress.update(take, {"loss": float(np.nanmean(metrics["loss"][: len(real)]))})
        return state, history, diverged

    def _auto_chunk(self, programs: _Programs, n_dev: int) -> int:
        """Members per call from the compiled memory of an `n_dev`-member epoch and evaluation."""
        sample = [self.members[0]] * n_dev
        state, keys = jax.eval_shape(programs.init, self.member_arrays(sample))
        idx = jax.ShapeDtypeStruct((n_dev, self.steps_per_epoch, self.config.data.batch_size), jnp.int32)
        if self.data_order == "shared":
            idx = jax.ShapeDtypeStruct(idx.shape[1:], jnp.int32)
        epoch = programs.epoch.lower(state, self.feed.arrays["train"], idx).compile().memory_analysis()
        if epoch is None:
            return len(self.members)  # no estimate from this backend
        # Training: the donated state becomes the new one (outputs) beside the step's temporaries.
        need = [epoch.temp_size_in_bytes + epoch.output_size_in_bytes]
        splits = sorted(self.config.train.eval_splits, key=lambda s: -len(jax.tree.leaves(self.feed.arrays[s])[0]))
        if splits:  # evaluating: the state stays, beside the evaluation's temporaries and outputs
            ev = programs.evaluate.lower(state.params, self.feed.arrays[splits[0]], keys["eval"]).compile()
            ev = ev.memory_analysis()
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


def _scale(params, kernel_scale, bias_scale):
    def scale(path, leaf):
        name = jax.tree_util.keystr(path[-1:], simple=True)
        return leaf * (kernel_scale if name == "kernel" else bias_scale if name == "bias" else 1.0)

    return jax.tree_util.tree_map_with_path(scale, params)


def _with_model(config: ml_collections.ConfigDict, overrides: dict) -> ml_collections.ConfigDict:
    config = config.copy_and_resolve_references()
    config.model.update(overrides)
    return config



def _round_up(x: int, k: int) -> int:
    return -(-x // k) * k
