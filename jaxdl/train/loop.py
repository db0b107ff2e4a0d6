"""The training loop every experiment shares.

A run's position is just its step: epoch e's batch order is a pure function of
(seed, e) and step t's dropout key of (seed, t). So a run resumed from a
checkpoint at step t continues exactly as if it had never stopped (bit for bit
on CPU), provided the jitted chunks of steps are the same: chunk boundaries are
a pure function of the step too (`epoch_loop._chunk_ends`), and checkpoints fall on them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal

import jax
import ml_collections
import numpy as np

from jaxdl import parallel, rng, tasks
from jaxdl.train import checkpoint, checks, feeds, optimizers, profiling, schedules, steps, summary, workdir as wd
from jaxdl.train.compiling import INIT, INTEGER, quick_jit
from jaxdl.train.epoch_loop import EpochLoop, NonFiniteError, format_evals
from jaxdl.train.progress import Progress
from jaxdl.train.state import TrainState, create

# NonFiniteError is raised by the epoch loop; callers catch it as loop.NonFiniteError.
__all__ = ["NonFiniteError", "RunResult", "fingerprint", "sigterm_flag", "train"]


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
# Train options that change what a step computes, with their defaults: fingerprinted only when
# set, so checkpoints saved before the option existed still resume.
_TRAIN_FINGERPRINTED = {"precision": "float32", "grad_accum_steps": 1, "ema_decay": 0.0}


def fingerprint(config: ml_collections.ConfigDict) -> dict:
    """What a checkpoint must agree with to be resumed (not e.g. the number of epochs)."""
    values = {k: v for k, v in config.to_dict().items() if k not in _NOT_FINGERPRINTED}
    values["data"] = {k: config.data[k] for k in _DATA_FINGERPRINTED}
    if train := {k: config.train[k] for k, default in _TRAIN_FINGERPRINTED.items()
                 if config.train.get(k, default) != default}:
        values["train"] = train
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
    profiling.parse_steps(config.train.get("profile_steps", ""))  # a bad window fails now, before any compile
    task = tasks.make(config)
    keep_best = bool(config.train.get("keep_best", False))
    if keep_best and "validation" not in config.train.eval_splits:
        raise ValueError("train.keep_best picks the best eval on the validation split; add "
                         f"'validation' to train.eval_splits (now {tuple(config.train.eval_splits)})")
    loop = _make_loop(config, task, workdir, keep_best=keep_best, overwrite=overwrite, resume=resume, live=live)
    try:
        with sigterm_flag() as sigterm:
            preempted = loop.run(sigterm)
    finally:
        loop.profiler.stop()
        loop.progress.close()
        loop.writer.close()
        loop.ckpt.close()
        if loop.best_ckpt is not None:
            loop.best_ckpt.close()
    seconds = loop.progress.elapsed
    if parallel.is_lead():
        _report(config, task, loop, preempted, seconds)
    return RunResult(state=loop.state, final=loop.final, seconds=seconds, preempted=preempted,
                     best=loop.best)


def _make_loop(config: ml_collections.ConfigDict, task: tasks.Task, workdir: str, *, keep_best: bool,
           overwrite: bool, resume: bool, live: bool | None) -> EpochLoop:
    """The run's loop, ready to run: data feed, optimiser, state (restored with `resume`), writers."""
    model = task.model
    lead = parallel.is_lead()
    mesh = parallel.make_mesh(config.train.num_devices)
    batch_size = config.data.batch_size
    feed = feeds.make_feed(config, mesh)
    steps_per_epoch = feed.num_train // batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"data.batch_size={batch_size} exceeds the {feed.num_train} training examples")
    total_steps = config.train.num_steps or config.train.epochs * steps_per_epoch
    tx = optimizers.make_optimizer(config.optimizer, total_steps=total_steps,
                                   ema_decay=config.train.get("ema_decay", 0.0))
    lr_factor = schedules.make_schedule(config.optimizer.schedule, total_steps)
    keys = _run_keys(np.int32(config.seed))
    # Bad user code fails here in one line, not as a traceback from inside the compiled step.
    checks.check_step_options(config.train, batch_size)
    checks.check_task(task, feed.example_batch("train", batch_size), key=keys["dropout"])

    state_shapes = jax.eval_shape(lambda: create(model, tx, keys["init"], keys["dropout"]))
    shardings = parallel.state_shardings(state_shapes, mesh, fsdp=config.train.fsdp)

    # jit's out_shardings place the state on every process's devices; device_put cannot reach
    # devices that another process of a multi-host run owns. Compiled quickly: it runs once. The
    # seed is an argument, not a constant, so a run with another seed reuses the cached program.
    init_state = quick_jit(lambda seed: _create_from_seed(model, tx, seed), cpu_options=INIT,
                           out_shardings=shardings)

    def make_state() -> TrainState:
        return init_state(np.int32(config.seed))

    ckpt_dir = os.path.join(workdir, "checkpoints")
    resuming = resume and checkpoint.has_checkpoint(ckpt_dir)
    if resume and not resuming and lead:
        print(f"{workdir}: no checkpoint to resume from; starting at step 0", flush=True)
    if not resuming and lead:
        wd.prepare(workdir, config, overwrite=overwrite or resume)
    ckpt = checkpoint.Checkpointer(
        ckpt_dir, max_to_keep=config.train.keep_checkpoints, fingerprint=fingerprint(config)
    )
    train_step = steps.make_train_step(task, tx, **steps.step_options(config.train))
    loop = EpochLoop(config, task, feed, keys, steps_per_epoch, total_steps, ckpt, make_state, train_step)
    if keep_best:
        loop.best_ckpt = checkpoint.Checkpointer(
            os.path.join(workdir, "best"), max_to_keep=1, fingerprint=fingerprint(config))
    loop.state = make_state()
    if resuming:
        loop.state, position = ckpt.restore(loop.state)
        loop.load_position(position)
        if lead:
            wd.rewind(workdir, int(loop.state.step))

    loop.run_steps = feed.runner(train_step, shardings, batch_size)
    loop.evaluate = feed.evaluator(task)
    # One program, not an eager op per term.
    loop.lr = jax.jit(lambda s: optimizers.get_learning_rate(s.opt_state) * lr_factor(s.step - 1))
    loop.writer = wd.MetricsWriter(workdir, lead=lead)
    loop.progress = Progress(
        total_steps, config.experiment or "train", examples_per_step=batch_size, live=live,
        lead=lead, initial=int(loop.state.step),
    )
    run_summary = summary.of_run(loop.run_steps, state_shapes, shardings, loop.first_chunk_steps())
    summary.announce(loop, config, run_summary, mesh, fresh=not resuming)
    loop.profiler = profiling.Profiler(config.train.get("profile_steps", ""), workdir, lead=lead)
    return loop


# The run's named keys as one program (eagerly, `rng.streams` compiles four); the same keys.
_run_keys = quick_jit(rng.streams, cpu_options=INTEGER)


def _create_from_seed(model, tx, seed: jax.Array) -> TrainState:
    keys = rng.streams(seed)
    return create(model, tx, keys["init"], keys["dropout"])


def _report(config: ml_collections.ConfigDict, task: tasks.Task, loop: EpochLoop, preempted: bool,
            seconds: float) -> None:
    """Prints how the run ended: preempted, or its final (and best) evals."""
    step = int(loop.state.step)
    if preempted:
        print(f"{config.experiment}: preempted at step {step}; checkpoint saved in {loop.ckpt.directory}; "
              f"continue with --resume", flush=True)
    else:
        print(f"{config.experiment}: {format_evals(task, loop.final)} ({step} steps, {loop.epoch} epochs, "
              f"{seconds:.1f}s)", flush=True)
        if loop.best is not None:
            print(f"{config.experiment}: best validation {task.monitor} at step {loop.best['step']} "
                  f"(epoch {loop.best['epoch']}): {format_evals(task, loop.best['evals'])}; "
                  f"its state is in {loop.best_ckpt.directory}", flush=True)


@contextlib.contextmanager
def sigterm_flag():
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
