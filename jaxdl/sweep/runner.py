"""Train every member of a sweep (seeds x hyperparameters) as one vmapped, jitted program.

A member is `(seed, initialiser, init scale, injected optimiser hyperparameters)`.
Its TrainState is built by the same `create` path as a single run, vmapped:
params come from `lax.switch` over the initialiser choices and are scaled by the
member's init scale (every jaxdl initialiser is `scale * base(key)`), and the
hyperparameters are written into the `inject_hyperparams` state. An epoch is
the single run's `scan_steps`, vmapped over members; members never interact,
so a diverging one (NaN) cannot poison the others.

Members are trained in chunks sized to fit memory; on several devices the
member axis of each chunk is split over an `ensemble` mesh axis. The compiled
programs (on-device or streamed data) are in `programs`; what a workdir keeps
to resume a sweep (finished chunks, the current chunk's checkpoints) in `resume`; successive
halving (rung-major training, survivors repacked into smaller chunks) in `halving`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxdl import config as config_lib, parallel, rng, tasks
from jaxdl.sweep import grid as grid_lib, halving as halving_lib, programs, results, resume as resume_lib
from jaxdl.train import checks, loop, optimizers, steps
from jaxdl.train.progress import Progress
from jaxdl.train.state import TrainState

ENSEMBLE = "ensemble"
DATA_ORDERS = ("per_seed", "shared")


@dataclasses.dataclass
class _Context:
    """What the groups of one `run` share: the workdir's store (None: nothing saved), whether SIGTERM
    arrived, and the epochs trained before the current chunk (its checkpoints' first step)."""

    store: resume_lib.SweepStore | None
    sigterm: Callable[[], bool]
    live: bool | None
    keep_params: bool
    epochs_before: int = 0
    preempted: bool = False


def run(
    config: ml_collections.ConfigDict, *, seeds: int | Sequence[int] = 1, grid: dict[str, list] | None = None,
    workdir: str | None = None, chunk_size: int = 0, data_order: str = "per_seed", num_devices: int = 0,
    keep_params: bool = False, live: bool | None = None, resume: bool = False, samples: int = 0,
    space: dict | None = None, search: str = "random", search_seed: int | None = None,
    halving: halving_lib.Halving | None = None,
) -> results.SweepResult:
    """Trains `seeds x samples x grid` members of `config` (a `space` of distributions searched at
    `samples` points: `grid.members`); writes results to `workdir` if given.

    `data_order="per_seed"`: each member shuffles with its own seed's data key (as a single
    run with that seed would); `"shared"`: all members see `config.seed`'s order.
    `chunk_size=0` picks the number of members per compiled call from a memory estimate.
    Members are split over `num_devices` devices (0 = all) along an `ensemble` mesh axis.
    With a `workdir`, finished chunks' rows are appended as they end and the current chunk is
    checkpointed at epoch ends; SIGTERM saves and stops (`preempted`); `resume` continues.
    `halving`: successive halving at its rungs (`halving.train`; cannot be resumed).
    """
    grid = dict(grid or {})
    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    space = grid_lib.parse_space(config, space or {})
    members = grid_lib.members(config, seeds, grid, space, samples, search, search_seed)
    _check_options(config, data_order, workdir, resume, keep_params, halving)
    parallel.start(config.train.get("cpu_devices", 0))  # before anything starts the backend
    devices = jax.devices()[: num_devices or None]
    mesh = Mesh(np.asarray(devices), (ENSEMBLE,))
    feed = programs.make_feed(config, mesh)
    start = time.perf_counter()
    rows, curves, member_steps, params = [], [], 0, []
    groups = []
    for batch_size in dict.fromkeys(m.get("data.batch_size", config.data.batch_size) for m in members):
        group = [m for m in members if m.get("data.batch_size", config.data.batch_size) == batch_size]
        group_config = config_lib.apply_overrides(config, [f"data.batch_size={batch_size}"])
        groups.append(Group(group_config, group, feed, mesh, data_order))  # each checks its task
        if halving:
            halving.check(groups[-1].epochs)
    # Once every check passed (a refused sweep leaves no workdir), before anything compiles.
    description = resume_lib.describe(config, seeds, grid, data_order, chunk_size, halving)
    if space:  # a resumed search must draw the same points
        description["search"] = {"samples": samples, "space": {k: str(d) for k, d in space.items()},
                                 "method": search, "seed": config.seed if search_seed is None else search_seed}
    store = resume_lib.SweepStore(workdir, config, description, resume=resume) if workdir else None
    # A halving sweep keeps no checkpoints: SIGTERM ends it as it ends any process.
    with loop.sigterm_flag() if store and not halving else contextlib.nullcontext(lambda: False) as sigterm:
        ctx = _Context(store, sigterm, live, keep_params)
        try:
            for g in groups:
                g_rows, g_curves, g_params, g_steps = (halving_lib.train(g, halving, chunk_size, ctx) if halving
                                                       else g.train(chunk_size, ctx))
                rows, curves, params, member_steps = rows + g_rows, curves + g_curves, params + g_params, \
                    member_steps + g_steps
                if ctx.preempted:
                    break
        finally:
            if store:
                store.close(complete=not ctx.preempted)
    result = results.SweepResult(rows, curves, [*space, *grid], time.perf_counter() - start, member_steps,
                                 monitor=g.task.monitor, preempted=ctx.preempted)
    if keep_params:
        # Groups may differ in batch size only, so their params stack into one tree.
        result.params = jax.tree.map(lambda *p: np.concatenate(p), *params)
    if store and parallel.is_lead() and not ctx.preempted:
        results.write(result, workdir)
    return result


def _check_options(config, data_order: str, workdir: str | None, resume: bool, keep_params: bool,
                   halving: halving_lib.Halving | None) -> None:
    if data_order not in DATA_ORDERS:
        raise ValueError(f"unknown data order '{data_order}'; valid: {', '.join(DATA_ORDERS)}")
    if not config.data.on_device and data_order != "shared":
        raise ValueError("a streaming sweep (data.on_device=false) needs --data-order shared: each batch is then "
                         "read once for every member; with per_seed each member would need its own batches")
    if resume and halving:
        raise ValueError("--halving cannot be combined with --resume: a halving sweep keeps no checkpoints")
    if resume and not workdir:
        raise ValueError("--resume needs the --workdir of the sweep to continue")
    if resume and keep_params:
        raise ValueError("keep_params cannot be combined with resume: finished chunks' params are not kept")


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
        self.epochs = math.ceil(self.total_steps / self.steps_per_epoch)
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
        checks.check_step_options(config.train, config.data.batch_size)
        swept = {grid_lib.OPTIMIZER_AXES.get(k) for m in members for k in m}
        self.tx = optimizers.make_optimizer(config.optimizer, total_steps=self.total_steps,
                                            inject=tuple(n for n in optimizers.INJECTABLE if n in swept),
                                            ema_decay=config.train.get("ema_decay", 0.0))
        self.train_step = steps.make_train_step(self.task, self.tx, **steps.step_options(config.train))
        opt_state = jax.eval_shape(lambda: self.tx.init(self.models[0].init(jax.random.key(0))))
        self.injected = {n for n in grid_lib.OPTIMIZER_AXES.values() if optax.tree.get(opt_state, n) is not None}
        self.eval_step = steps.make_eval_step(self.task)
        # Jitted, vmapped over members; compiled at their first call.
        self.init = jax.jit(jax.vmap(self.init_member), out_shardings=self.member_sharding)
        self.indices = jax.jit(jax.vmap(  # the epoch is traced (it only enters fold_in): one compile
            lambda k, e: steps.epoch_indices(k, e, feed.num_train, config.data.batch_size), in_axes=(0, None)))
        self.programs = (programs.DevicePrograms if config.data.on_device else programs.StreamPrograms)(self)

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

    def train(self, chunk_size: int, ctx: _Context) -> tuple[list, list, list, int]:
        """Trains the group chunk by chunk, skipping chunks a resumed sweep finished before; returns
        rows, curves, (if kept) params per chunk and member-steps. Stops between epochs at SIGTERM."""
        batch = self.config.data.batch_size
        chunk = self.members_per_call(chunk_size, ctx.store)
        progress = Progress(
            self.epochs * self.steps_per_epoch * math.ceil(len(self.members) / chunk),
            f"sweep {self.config.experiment} b{batch}", examples_per_step=batch * chunk, live=ctx.live,
            lead=parallel.is_lead())
        progress.message(f"{len(self.members)} members, {chunk} per compiled call, {self.epochs} epochs")
        rows, curves, kept = [], [], []
        for lo in range(0, len(self.members), chunk):
            real = self.members[lo : lo + chunk]
            finished = ctx.store.finished(real) if ctx.store else None
            if finished is None:
                if ctx.sigterm():  # arrived during the last chunk's last epoch: nothing more to save
                    ctx.preempted = True
                    break
                state, history, diverged = self._train_chunk(real, chunk, progress, ctx)
                if ctx.preempted:
                    break
                finished = self._summarize(real, history, diverged)
                if ctx.store:
                    ctx.store.append(*finished)
                if ctx.keep_params:
                    kept.append(jax.tree.map(lambda p: np.asarray(p)[: len(real)], parallel.fetch(state.params)))
            ctx.epochs_before += self.epochs
            rows, curves = rows + finished[0], curves + finished[1]
            best = results.best_member(finished[0], self.task)
            progress.message(
                f"members {lo}-{lo + len(real) - 1}: {sum(r['diverged'] for r in finished[0])} diverged"
                + (f"; best member {best['member']} " + results.format_finals(best, self.task.monitor) if best else ""))
        progress.close()
        return rows, curves, kept, len(self.members) * self.total_steps

    def members_per_call(self, requested: int, store: resume_lib.SweepStore | None) -> int:
        """Members per compiled call: the one a resumed sweep used, else requested, else fit to memory."""
        n_dev = self.mesh.shape[ENSEMBLE]
        batch = self.config.data.batch_size
        if store and batch in store.chunk_sizes:
            chunk = store.chunk_sizes[batch]
            if chunk % n_dev:
                raise ValueError(f"this sweep was trained {chunk} members per call, which do not split over "
                                 f"{n_dev} devices; resume it with --devices dividing {chunk}")
            return chunk
        chunk = requested or programs.members_per_call(self, n_dev)
        chunk = min(_round_up(max(chunk, 1), n_dev), _round_up(len(self.members), n_dev))
        if store:
            store.record_chunk_size(batch, chunk)
        return chunk

    def _train_chunk(self, real: list[dict], chunk: int, progress: Progress,
                     ctx: _Context) -> tuple[TrainState, list[list[dict]], np.ndarray]:
        """Trains the members `real`, padded to `chunk` (from their last checkpoint, if any): their
        states, per-epoch evals, and which diverged. Checkpoints at epoch ends; SIGTERM stops it."""
        padded = real + [real[-1]] * (chunk - len(real))  # fixed shapes: one compile
        state, member_keys = self.init(self.member_arrays(padded))
        history, diverged, first = [[] for _ in real], np.zeros(len(padded), bool), 1
        restored = ctx.store.restore(state, ctx.epochs_before + 1, ctx.epochs_before + self.epochs) \
            if ctx.store else None
        if restored is not None:
            state, position = restored
            history, diverged, first = position["history"], np.asarray(position["diverged"]), position["epoch"] + 1
            progress.update(int(parallel.fetch(state.step)[0]), {})
        for epoch in range(first, self.epochs + 1):
            state = programs.train_epoch(self, state, member_keys, epoch, history, diverged, progress)
            stop = ctx.sigterm() and epoch < self.epochs  # the last epoch's rows are written instead
            due = resume_lib.checkpoint_due(self.config.train.checkpoint_every_steps, epoch, self.steps_per_epoch)
            if ctx.store and epoch < self.epochs and (stop or due):
                ctx.store.save(ctx.epochs_before + epoch, state, {"epoch": epoch, "history": history,
                                                                  "diverged": diverged.tolist()})
            if stop:
                ctx.preempted = True
                break
        return state, history, diverged

    def _summarize(self, real: list[dict], history: list[list[dict]], diverged: np.ndarray):
        rows, curves = [], []
        for i, m in enumerate(real):
            row, member_curves = results.summarize(m, self.config.data.batch_size, history[i], diverged[i], self.task)
            rows.append(row)
            curves += member_curves
        return rows, curves


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
