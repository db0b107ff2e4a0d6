"""A run's steps, epoch by epoch: jitted chunks, evals, checkpoints, the plateau rule, the NaN guard.

`jaxdl.train.loop.train` builds an `EpochLoop` and runs it; the loop's module doc says
why a resumed run continues bit for bit (chunk ends are a pure function of the step).
"""

from __future__ import annotations

import dataclasses
import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import parallel, tasks
from jaxdl.train import checkpoint, optimizers, profiling, schedules, steps, summary
from jaxdl.train.compiling import INTEGER, quick_jit

GUARDED = ("loss", "grad_norm")  # a step whose loss or gradient is not finite stops the run
# An epoch's order as one program: called eagerly, each of its ops would compile alone.
_epoch_indices = quick_jit(steps.epoch_indices, cpu_options=INTEGER, static_argnums=(2, 3))


class NonFiniteError(FloatingPointError):
    """Training produced a NaN/Inf; the message names the step, the metric and the last checkpoint."""


class EpochLoop:
    """The mutable side of a run: state, position in the epoch, running train sums.

    `loop.train` sets the remaining attributes: run_steps, evaluate, lr, writer, progress.
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
        self.meter = summary.FlopMeter()  # model FLOP/s of the epoch's chunks (set by summary.announce)
        self.profiler = profiling.Profiler()  # train.profile_steps (off by default)

    # What a checkpoint stores beside the TrainState (JSON).
    def position(self) -> dict:
        plateau = None
        if self.plateau is not None:
            plateau = {k: float(v) for k, v in dataclasses.asdict(self.plateau).items()}
            plateau["best"] = None if math.isnan(plateau["best"]) else plateau["best"]
        # `final` too: a finished run resumed runs no step and still reports its last evals.
        return {"epoch": self.epoch, "sums": self.sums, "count": self.count, "plateau": plateau,
                "stopped": self.stop, "best": self.best, "final": self.final}

    def load_position(self, position: dict) -> None:
        self.sums, self.count = dict(position["sums"]), int(position["count"])
        self.epoch, self.stop = int(position["epoch"]), bool(position["stopped"])
        self.best = position.get("best")
        self.final = position.get("final", {})  # absent in checkpoints saved before it was kept
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
            epoch_start, epoch_end = self._epoch_span(step)
            idx = self._indices(self.epoch)
            for end in _chunk_ends(step, epoch_start, epoch_end, self.steps_per_call):
                started = time.perf_counter()
                with self.profiler.chunk(step, end):
                    self.state, metrics_S = self.run_steps(self.state, idx[step - epoch_start : end - epoch_start])
                    metrics_S = jax.device_get(metrics_S)
                self.meter.add(end - step, time.perf_counter() - started)
                self._guard(metrics_S, step)
                self._guard_state(step, end)
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
                preempted = not done and parallel.any_process(sigterm())
                if scheduled or done or preempted:
                    self.ckpt.save(step, self.state, self.position())
                if preempted:
                    return True
        return False

    def _epoch_span(self, step: int) -> tuple[int, int]:
        """(first, end) step of the epoch that `step` lies in, the end cut at `total_steps`."""
        epoch_start = step // self.steps_per_epoch * self.steps_per_epoch
        return epoch_start, min(epoch_start + self.steps_per_epoch, self.total_steps)

    def first_chunk_steps(self) -> int:
        """How many steps the next call of `run_steps` runs, from the current state's step."""
        step = int(self.state.step)
        ends = _chunk_ends(step, *self._epoch_span(step), self.steps_per_call)
        return ends[0] - step if ends else self.steps_per_call  # a finished run: no chunk left

    def _indices(self, epoch: int):
        return _epoch_indices(self.data_key, epoch, self.feed.num_train, self.config.data.batch_size)

    def _end_epoch(self, step: int) -> None:
        config = self.config
        train_metrics = {k: v / self.count for k, v in self.sums.items()}
        # The rate of the epoch's last update: base (plateau-adjusted) times schedule factor.
        train_metrics["learning_rate"] = float(self.lr(self.state))
        # FLOP rate and MFU go to the log only: `final` stays a function of the step, as resuming needs.
        self.writer.write(step=step, epoch=self.epoch, split="train", metrics={**train_metrics, **self.meter.take()})
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
        params = optimizers.eval_params(self.state.params, self.state.opt_state)  # the EMA when kept
        for split in self.config.train.eval_splits:
            metrics = self.evaluate(params, split, self.eval_key)
            self.final[split] = {k: float(v) for k, v in metrics.items()}
            self.writer.write(step=step, epoch=self.epoch, split=split, metrics=self.final[split])
        at = f"epoch {self.epoch}" if step % self.steps_per_epoch == 0 else f"epoch {self.epoch} step {step}"
        self.progress.message(f"{at}: {format_evals(self.task, self.final)}")
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

    def _guard_state(self, start: int, end: int) -> None:
        """Stops when the state after a chunk is not finite although its losses and gradients were
        (an overflowing update): such a state is never saved, so every checkpoint is finite."""
        if bool(_all_finite(self.state)):
            return
        self.ckpt.wait()
        last = self.ckpt.latest_step()
        where = (f"last good checkpoint: step {last} in {self.ckpt.directory}" if last is not None
                 else "no checkpoint was saved before it")
        steps_run = f"step {end}" if end == start + 1 else f"steps {start + 1}-{end}"
        raise NonFiniteError(
            f"non-finite params or optimizer state after {steps_run} (epoch {self.epoch}) with finite "
            f"loss and gradients: an update overflowed (is the learning rate too large?); training stopped; {where}")

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


@quick_jit
def _all_finite(state) -> jax.Array:
    """Whether every floating-point leaf of `state` (params, optimiser state) is finite: one
    reduction per chunk, so the check costs nothing next to the steps."""
    leaves = [x for x in jax.tree.leaves(state) if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def _chunk_ends(step: int, epoch_start: int, epoch_end: int, per_call: int) -> list[int]:
    """Ends of the jitted chunks from `step` to `epoch_end`: every `per_call` steps from the
    epoch's start. A pure function of the step, so a resumed run compiles and runs exactly the
    chunks an uninterrupted one would."""
    return [e for e in [*range(epoch_start + per_call, epoch_end, per_call), epoch_end] if e > step]


def format_evals(task: tasks.Task, final: dict[str, dict[str, float]]) -> str:
    """One line of every eval split's headline metrics."""
    return " | ".join(f"{split} {task.headline(m)}" for split, m in final.items() if split != "train")
