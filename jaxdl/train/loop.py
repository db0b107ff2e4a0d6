"""The training loop every experiment shares."""

from __future__ import annotations

import dataclasses
import math

import jax
import ml_collections
import numpy as np

from jaxdl import data, models, rng
from jaxdl.train import feeds, losses, optimizers, schedules, steps, workdir as wd
from jaxdl.train.progress import Progress
from jaxdl.train.state import TrainState, create


@dataclasses.dataclass
class RunResult:
    state: TrainState
    final: dict[str, dict[str, float]]  # split -> metrics after the last step
    seconds: float


def build_model(config: ml_collections.ConfigDict) -> models.PureModel:
    spec = data.get_spec(config.data.name)
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    return models.make(config.model.name, spec.image_shape, spec.num_classes, **hparams)


def train(
    config: ml_collections.ConfigDict, workdir: str, *, overwrite: bool = False,
    live: bool | None = None,
) -> RunResult:
    """Trains `config` and writes WORKDIR/config.json and WORKDIR/metrics.jsonl."""
    model = build_model(config)
    loss_fn = losses.make_loss(config.loss.name, config.loss.output)
    batch_size = config.data.batch_size
    wd.prepare(workdir, config, overwrite=overwrite)
    writer = wd.MetricsWriter(workdir)

    feed = feeds.make_feed(config)
    steps_per_epoch = feed.num_train // batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"data.batch_size={batch_size} exceeds the {feed.num_train} training examples")
    total_steps = config.train.num_steps or config.train.epochs * steps_per_epoch
    tx = optimizers.make_optimizer(config.optimizer, total_steps=total_steps)
    lr_factor = schedules.make_schedule(config.optimizer.schedule, total_steps)
    run = feed.runner(steps.make_train_step(model, loss_fn, tx))
    evaluate = feed.evaluator(model, loss_fn)

    keys = rng.streams(config.seed)
    state = create(model, tx, keys["init"], keys["dropout"])
    base_lr = float(config.optimizer.learning_rate)
    plateau = schedules.plateau_init() if config.optimizer.schedule.name == "plateau" else None
    steps_per_call = max(1, math.ceil(steps_per_epoch / config.train.progress_updates_per_epoch))
    num_epochs = math.ceil(total_steps / steps_per_epoch)

    progress = Progress(total_steps, config.experiment or "train", live=live)
    final: dict[str, dict[str, float]] = {}
    step = 0
    for epoch in range(1, num_epochs + 1):
        idx = steps.epoch_indices(keys["data"], epoch, feed.num_train, batch_size)
        idx = idx[: total_steps - step]
        sums, count = None, 0
        for start in range(0, idx.shape[0], steps_per_call):
            state, metrics_S = run(state, idx[start : start + steps_per_call])
            chunk = jax.device_get(jax.tree.map(lambda m: m.sum(), metrics_S))
            n = int(metrics_S["loss"].shape[0])
            sums = chunk if sums is None else {k: sums[k] + chunk[k] for k in sums}
            count, step = count + n, step + n
            progress.update(n, {k: v / count for k, v in sums.items() if k != "grad_norm"})
        train_metrics = {k: v / count for k, v in sums.items()}
        # The rate of the epoch's last update: base (plateau-adjusted) times schedule factor.
        train_metrics["learning_rate"] = float(
            optimizers.get_learning_rate(state.opt_state) * lr_factor(step - 1)
        )
        _check_finite(train_metrics, step)
        writer.write(step=step, epoch=epoch, split="train", metrics=train_metrics)

        last = step >= total_steps
        if epoch % config.train.eval_every_epochs and not last:
            continue
        final = {"train": train_metrics}
        for split in config.train.eval_splits:
            final[split] = {k: float(v) for k, v in evaluate(state.params, split).items()}
            writer.write(step=step, epoch=epoch, split=split, metrics=final[split])
        progress.message(f"epoch {epoch}: {_fmt_evals(final)}")
        if plateau is not None:
            state, plateau, stop = _plateau_step(config, state, plateau, final, base_lr, progress)
            if stop:
                break
    progress.close()
    seconds = progress.elapsed
    print(f"{config.experiment}: {_fmt_evals(final)} ({step} steps, {epoch} epochs, {seconds:.1f}s)",
          flush=True)
    return RunResult(state=state, final=final, seconds=seconds)


def _plateau_step(config, state, plateau, final, base_lr, progress):
    cfg = config.optimizer.schedule
    metric = final.get("validation", final.get("test"))["accuracy"]
    old_scale = plateau.scale
    plateau = schedules.plateau_update(plateau, metric, patience=cfg.patience, factor=cfg.factor)
    if plateau.scale != old_scale:
        lr = base_lr * float(plateau.scale)
        state = state.replace(opt_state=optimizers.set_learning_rate(state.opt_state, lr))
        progress.message(f"no improvement in {cfg.patience} evals: learning rate -> {lr:.4g}")
    stop = schedules.plateau_should_stop(plateau, cfg.min_scale)
    if stop:
        progress.message(f"learning rate fell to {cfg.min_scale:g} of its start: stopping")
    return state, plateau, stop


def _check_finite(metrics: dict[str, float], step: int) -> None:
    bad = [k for k, v in metrics.items() if not np.isfinite(v)]
    if bad:
        raise FloatingPointError(f"non-finite {', '.join(bad)} in the epoch ending at step {step}")


def _fmt_evals(final: dict[str, dict[str, float]]) -> str:
    return " | ".join(
        f"{split} accuracy {m['accuracy']:.4f} ({m['correct']:.0f} / {m['count']:.0f}) loss {m['loss']:.4f}"
        for split, m in final.items()
        if split != "train"
    )
