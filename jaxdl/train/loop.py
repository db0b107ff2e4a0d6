"""The training loop every experiment shares.

A run's position is just its step: epoch e's batch order is a pure function of
(seed, e) and step t's dropout key of (seed, t). So a run resumed from a
checkpoint at step t continues exactly as if it had never stopped (bit for bit
on CPU), provided the jitted chunks of steps are the same: chunk boundaries are
a pure function of the step too (`_chunk_ends`), and checkpoints fall on them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import signal

import jax
import ml_collections
import numpy as np

from jaxdl import parallel, rng, tasks
from jaxdl.train import checkpoint, feeds, optimizers, schedules, steps, workdir as wd
from jaxdl.train.progress import Progress
from jaxdl.train.state import TrainState, create

GUARDED = ("loss", "grad_norm")  # a step whose loss or gradient is not finite stops the run


class NonFiniteError(FloatingPointError):
    """Training produced a NaN/Inf; the message names the step, the metric and the last checkpoint."""


@dataclasses.dataclass
class RunResult:
    state: TrainState
    final: dict[str, dict[str, float]]  # split -> metrics after the last step
    seconds: float
    preempted: bool = False  # stopped by SIGTERM after saving a checkpoint
    # With train.keep_best: {"step", "epoch", "monitor", "value", "evals": split -> metrics}
    # of the eval with the best validation `task.monitor` (its state is in WORKDIR/best).
    best: dict | None = None


# Sections that do not change what a checkpoint holds or how it continues.
_NOT_FINGERPRINTED = ("experiment", "train")
_DATA_FINGERPRINTED = ("name", "batch_size", "max_train_examples")


def fingerprint(config: ml_collections.ConfigDict) -> dict:
    """What a checkpoint must agree with to be resumed (not e.g. the number of epochs)."""
    values = {k: v for k, v in config.to_dict().items() if k not in _NOT_FINGERPRINTED}
    values["data"] = {k: config.data[k] for k in _DATA_FINGERPRINTED}
    return json.loads(json.dumps(values))


def train(
    config: ml_collections.ConfigDict, workdir: str | None = None, *, overwrite: bool = False,
    resume: bool = False, live: bool | None = None,
) -> RunResult:
    """Trains `config`, writing config.json, metrics.jsonl, tensorboard/ and checkpoints/ into `workdir`
    (default runs/EXPERIMENT/TIMESTAMP); `resume` continues the run there from its latest checkpoint."""
    if resume and not workdir:
        raise ValueError("--resume needs the --workdir of the run to continue")
    parallel.start(config.train.get("cpu_devices", 0))  # before anything starts the backend
    if not workdir:
        workdir = wd.default_workdir(config.experiment or "train")
        if parallel.is_lead():
            print(f"{config.experiment}: writing to {workdir}", flush=True)
    task = tasks.make(config)
    model = task.model
    keep_best = bool(config.train.get("keep_best", False))
    if keep_best and "validation" not in config.train.eval_splits:
        raise ValueError("train.keep_best picks the best eval on the validation split; add "
                         f"'validation' to train.eval_splits (now {tuple(config.train.eval_splits)})")
    lead = parallel.is_lead()
    mesh = parallel.make_mesh(config.train.num_devices)
    batch_size = config.data.batch_size
    feed = feeds.make_feed(config, mesh)
    steps_per_epoch = feed.num_train // batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"data.batch_size={batch_size} exceeds the {feed.num_train} training examples")
    total_steps = config.train.num_steps or config.train.epochs * steps_per_epoch
    tx = optimizers.make_optimizer(config.optimizer, total_steps=total_steps)
    lr_factor = schedules.make_schedule(config.optimizer.schedule, total_steps)
    keys = rng.streams(config.seed)

    shardings = parallel.state_shardings(
        jax.eval_shape(lambda: create(model, tx, keys["init"], keys["dropout"])), mesh, fsdp=config.train.fsdp
    )

    def make_state() -> TrainState:
        # Fresh keys each time: the state is donated to the step, and `keys` must outlive it.
        fresh = rng.streams(config.seed)
        return jax.device_put(create(model, tx, fresh["init"], fresh["dropout"]), shardings)

    ckpt_dir = os.path.join(workdir, "checkpoints")
    resuming = resume and checkpoint.has_checkpoint(ckpt_dir)
    if resume and not resuming and lead:
        print(f"{workdir}: no checkpoint to resume from; starting at step 0", flush=True)
    if not resuming and lead:
        wd.prepare(workdir, config, overwrite=overwrite or resume)
    ckpt = checkpoint.Checkpointer(
        ckpt_dir, max_to_keep=config.train.keep_checkpoints, fingerprint=fingerprint(config)
    )
    train_step = steps.make_train_step(task, tx)
    loop = _Loop(config, task, feed, keys, steps_per_epoch, total_steps, ckpt, make_state, train_step)
    if keep_best:
        loop.best_ckpt = checkpoint.Checkpointer(
            os.path.join(workdir, "best"), max_to_keep=1, fingerprint=fingerprint(config))
    loop.state = make_state()
    if resuming:
        loop.state, position = ckpt.restore(loop.state)
        loop.load_position(position)
        if lead:
            wd.rewind(workdir, int(loop.state.step))

    loop.run_steps = feed.runner(train_step, shardings)
    loop.evaluate = feed.evaluator(task)
    loop.lr = lambda s: optimizers.get_learning_rate(s.opt_state) * lr_factor(s.step - 1)
    loop.writer = wd.MetricsWriter(workdir, lead=lead)
    loop.progress = Progress(
        total_steps, config.experiment or "train", examples_per_step=batch_size, live=live,
        lead=lead, initial=int(loop.state.step),
    )
    try:
        with _sigterm_flag() as sigterm:
            preempted = loop.run(sigterm)
    finally:
        loop.progress.close()
        loop.writer.close()
        ckpt.close()
        if loop.best_ckpt is not None:
            loop.best_ckpt.close()
    seconds = loop.progress.elapsed
    step = int(loop.state.step)
    if lead:
        if preempted:
            print(f"{config.experiment}: preempted at step {step}; checkpoint saved in {ckpt.directory}; "
                  f"continue with --resume", flush=True)
        else:
            print(f"{config.experiment}: {_fmt_evals(task, loop.final)} ({step} steps, {loop.epoch} epochs, "
                  f"{seconds:.1f}s)", flush=True)
            if loop.best is not None:
                print(f"{config.experiment}: best validation {task.monitor} at step {loop.best['step']} "
                      f"(epoch {loop.best['epoch']}): {_fmt_evals(task, loop.best['evals'])}; "
                      f"its state is in {loop.best_ckpt.directory}", flush=True)
    return RunResult(state=loop.state, final=loop.final, seconds=seconds, preempted=preempted,
                     best=loop.best)


class _Loop:
    """The mutable side of a run: state, position in the epoch, running train sums.

    `train` sets the remaining attributes: run_steps, evaluate, lr, writer, progress.
    """

    def __init__(self, config, task, feed, keys, steps_per_epoch, total_steps, ckpt, make_state, train_step):
        self.config, self.task, self.feed = config, task, feed
        self.data_key, self.eval_key = keys["data"], keys["eval"]
        self.steps_per_epoch, self.total_steps = steps_per_epoch, total_steps
        self.ckpt, self.make_state, self.train_step = ckpt, make_state, train_step
        self.steps_per_call = max(1, math.ceil(steps_per_epoch / config.train.progress_updates_per_epoch))
        # Also evaluate at the first chunk end past every multiple of this many steps (0 = off).
        self.eval_every = int(config.train.get("eval_every_steps", 0))
        self.plateau = schedules.plateau_init() if config.optimizer.schedule.name == "plateau" else None
        self.stop = False  # set by the plateau rule
        self.sums: dict[str, float] = {}  # train metrics summed over the epoch so far
        self.count = 0
        self.final: dict[str, dict[str, float]] = {}
        self.epoch = 0
        self.best_ckpt: checkpoint.Checkpointer | None = None  # set with train.keep_best
        self.best: dict | None = None

    # What a checkpoint stores beside the TrainState (JSON).
    def position(self) -> dict:
        plateau = None
        if self.plateau is not None:
            plateau = {k: float(v) for k, v in dataclasses.asdict(self.plateau).items()}
            plateau["best"] = None if math.isnan(plateau["best"]) else plateau["best"]
        return {"epoch": self.epoch, "sums": self.sums, "count": self.count, "plateau": plateau,
                "stopped": self.stop, "best": self.best}

    def load_position(self, position: dict) -> None:
        self.sums, self.count = dict(position["sums"]), int(position["count"])
        self.epoch, self.stop = int(position["epoch"]), bool(position["stopped"])
        self.best = position.get("best")
        if position["plateau"] is not None:
            p = dict(position["plateau"])
            p["best"] = float("nan") if p["best"] is None else p["best"]
            self.plateau = schedules.PlateauState(
                best=p["best"], bad_epochs=int(p["bad_epochs"]), scale=p["scale"])

    def run(self, sigterm) -> bool:
        """Trains to `total_steps`; True if stopped early by SIGTERM."""
        every = self.config.train.checkpoint_every_steps
        step = int(self.state.step)
        while step < self.total_steps and not self.stop:
            self.epoch = step // self.steps_per_epoch + 1
            epoch_start = (self.epoch - 1) * self.steps_per_epoch
            epoch_end = min(epoch_start + self.steps_per_epoch, self.total_steps)
            idx = self._indices(self.epoch)
            for end in _chunk_ends(step, epoch_start, epoch_end, self.steps_per_call):
                self.state, metrics_S = self.run_steps(self.state, idx[step - epoch_start : end - epoch_start])
                metrics_S = jax.device_get(metrics_S)
                self._guard(metrics_S, step)
                for k, v in metrics_S.items():
                    self.sums[k] = self.sums.get(k, 0.0) + float(np.sum(v))
                self.count += end - step
                # Every N steps, at the first chunk end at or past each multiple of N.
                scheduled = end == epoch_end if every == 0 else every > 0 and end // every > step // every
                eval_due = self.eval_every > 0 and end // self.eval_every > step // self.eval_every
                step = end
                self.progress.update(len(metrics_S["loss"]), {
                    k: v / self.count for k, v in self.sums.items() if k != "grad_norm"})
                if step == epoch_end:
                    self._end_epoch(step)
                elif eval_due:
                    self._evaluate(step)  # mid-epoch: runs shorter than an epoch still get a curve
                done = step >= self.total_steps or self.stop
                preempted = sigterm() and not done
                if scheduled or done or preempted:
                    self.ckpt.save(step, self.state, self.position())
                if preempted:
                    return True
        return False

    def _indices(self, epoch: int):
        return steps.epoch_indices(self.data_key, epoch, self.feed.num_train, self.config.data.batch_size)

    def _end_epoch(self, step: int) -> None:
        config = self.config
        train_metrics = {k: v / self.count for k, v in self.sums.items()}
        # The rate of the epoch's last update: base (plateau-adjusted) times schedule factor.
        train_metrics["learning_rate"] = float(self.lr(self.state))
        self.writer.write(step=step, epoch=self.epoch, split="train", metrics=train_metrics)
        self.sums, self.count = {}, 0
        if self.epoch % config.train.eval_every_epochs and step < self.total_steps:
            return
        self.final = {"train": train_metrics}
        self._evaluate(step)
        if self.plateau is not None:
            self._plateau_step()

    def _evaluate(self, step: int) -> None:
        """Evaluates every eval split at `step`; logs, and keeps the best state if asked."""
        self.final = {"train": self.final.get("train", {})}
        for split in self.config.train.eval_splits:
            metrics = self.evaluate(self.state.params, split, self.eval_key)
            self.final[split] = {k: float(v) for k, v in metrics.items()}
            self.writer.write(step=step, epoch=self.epoch, split=split, metrics=self.final[split])
        at = f"epoch {self.epoch}" if step % self.steps_per_epoch == 0 else f"epoch {self.epoch} step {step}"
        self.progress.message(f"{at}: {_fmt_evals(self.task, self.final)}")
        if self.best_ckpt is not None:
            self._keep_if_best(step)

    def _keep_if_best(self, step: int) -> None:
        value = self.final["validation"][self.task.monitor]
        if not self.task.better(value, None if self.best is None else self.best["value"]):
            return
        self.best = {"step": step, "epoch": self.epoch, "monitor": self.task.monitor, "value": value,
                     "evals": self.final}
        latest = self.best_ckpt.latest_step()
        # A resumed run replays steps: the same step's state is already saved.
        if latest is None or latest < step:
            self.best_ckpt.save(step, self.state, self.best)

    def _plateau_step(self) -> None:
        cfg = self.config.optimizer.schedule
        metric = self.final.get("validation", self.final.get("test"))[self.task.monitor]
        old_scale = self.plateau.scale
        self.plateau = schedules.plateau_update(self.plateau, metric, patience=cfg.patience, factor=cfg.factor,
                                                mode=self.task.monitor_mode)
        if self.plateau.scale != old_scale:
            lr = float(self.config.optimizer.learning_rate) * float(self.plateau.scale)
            opt_state = optimizers.set_learning_rate(self.state.opt_state, lr)
            self.state = self.state.replace(opt_state=opt_state)
            self.progress.message(f"no improvement in {cfg.patience} evals: learning rate -> {lr:.4g}")
        if schedules.plateau_should_stop(self.plateau, cfg.min_scale):
            self.progress.message(f"learning rate fell to {cfg.min_scale:g} of its start: stopping")
            self.stop = True

    def _guard(self, metrics_S: dict, start: int) -> None:
        """Stops at the first step whose loss or gradient norm is not finite."""
        for name in GUARDED:
            bad = np.flatnonzero(~np.isfinite(metrics_S[name]))
            if bad.size:
                step = start + int(bad[0]) + 1
                self.ckpt.wait()
                last = self.ckpt.latest_step()
                where = (f"last good checkpoint: step {last} in {self.ckpt.directory}" if last is not None
                         else "no checkpoint was saved before it")
                message = (f"non-finite {name} ({metrics_S[name][bad[0]]}) at step {step} "
                           f"(epoch {self.epoch}): training stopped; {where}")
                if not self.config.train.debug_nans:
                    raise NonFiniteError(message + "; rerun with --set train.debug_nans=true to locate the op")
                raise NonFiniteError(f"{message}; {self._locate_nan(step)}")

    def _locate_nan(self, bad_step: int) -> str:
        """Replays from the last good state to `bad_step` under jax_debug_nans, one jitted
        step at a time (not scanned), so the error names the op that made the NaN."""
        state = self.make_state()
        if self.ckpt.latest_step() is not None:
            state = self.ckpt.restore(state)[0]
        step_fn = jax.jit(self.train_step)
        try:
            with jax.debug_nans(True):
                for s in range(int(state.step), bad_step):
                    epoch = s // self.steps_per_epoch + 1
                    idx_B = self._indices(epoch)[s - (epoch - 1) * self.steps_per_epoch]
                    state, _ = step_fn(state, self.feed.batch("train", idx_B))
        except FloatingPointError as e:
            return f"jax_debug_nans replay: {e}"
        return "the jax_debug_nans replay found no NaN (is the failure nondeterministic?)"


def _chunk_ends(step: int, epoch_start: int, epoch_end: int, per_call: int) -> list[int]:
    """Ends of the jitted chunks from `step` to `epoch_end`: every `per_call` steps from the
    epoch's start. A pure function of the step, so a resumed run compiles and runs exactly the
    chunks an uninterrupted one would."""
    return [e for e in [*range(epoch_start + per_call, epoch_end, per_call), epoch_end] if e > step]


@contextlib.contextmanager
def _sigterm_flag():
    """Yields a function telling whether SIGTERM arrived (the preemption convention)."""
    received = []
    try:
        previous = signal.signal(signal.SIGTERM, lambda *_: received.append(True))
    except ValueError:  # not the main thread: leave signals alone
        yield lambda: False
        return
    try:
        yield lambda: bool(received)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fmt_evals(task: tasks.Task, final: dict[str, dict[str, float]]) -> str:
    return " | ".join(f"{split} {task.headline(m)}" for split, m in final.items() if split != "train")
