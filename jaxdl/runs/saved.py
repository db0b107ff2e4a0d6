"""What a run left in its workdir (config.json, checkpoints/), loaded back."""

from __future__ import annotations

import json
import os

import ml_collections

from jaxdl import experiments, rng, tasks
from jaxdl.models import PureModel
from jaxdl.train import checkpoint, loop, optimizers
from jaxdl.train.state import TrainState, create


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """WORKDIR/config.json as a ConfigDict, with the tuples JSON turned into lists restored."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        raise ValueError(f"{workdir} holds no run (no {path})")
    with open(path) as f:
        values = json.load(f)
    # The experiment's defaults give every value its type (tuple, not list).
    config = experiments.get_config(values["experiment"])
    _apply(config, values)
    return config


def checkpoint_steps(workdir: str) -> list[int]:
    """Steps of the run's committed checkpoints, oldest first."""
    directory = os.path.join(workdir, "checkpoints")
    if not checkpoint.has_checkpoint(directory):  # checked first: a Checkpointer creates the dir
        raise ValueError(f"{workdir} has no checkpoints (nothing in {directory})")
    ckpt = checkpoint.Checkpointer(directory)
    try:
        return ckpt.all_steps()
    finally:
        ckpt.close()


def restore(workdir: str, step: int | None = None, *, best: bool = False
            ) -> tuple[ml_collections.ConfigDict, PureModel, TrainState]:
    """The run's config, model and TrainState at checkpoint `step` (default: the latest).

    `best=True`: the state kept by `train.keep_best` (WORKDIR/best) instead.
    """
    config = load_config(workdir)
    folder = "best" if best else "checkpoints"
    if best and not checkpoint.has_checkpoint(os.path.join(workdir, folder)):
        raise ValueError(f"{workdir} kept no best state (nothing in {os.path.join(workdir, folder)}; "
                         "train with --set train.keep_best=true)")
    if not best:
        checkpoint_steps(workdir)  # a clear error for a run without checkpoints
    model = tasks.make(config).model
    # Only the state's structure matters; a warmup schedule needs more steps than its warmup.
    tx = optimizers.make_optimizer(config.optimizer, total_steps=config.optimizer.schedule.warmup_steps + 1)
    keys = rng.streams(config.seed)
    target = create(model, tx, keys["init"], keys["dropout"])
    with open(os.path.join(workdir, "config.json")) as f:
        saved_values = json.load(f)
    # Keys the experiment gained after this run was saved hold their defaults (an option added
    # later leaves older behaviour as its default), so only the saved keys must match.
    fingerprint = _saved_part(loop.fingerprint(config), saved_values)
    ckpt = checkpoint.Checkpointer(os.path.join(workdir, folder), fingerprint=fingerprint)
    try:
        state, _ = ckpt.restore(target, step)
    finally:
        ckpt.close()
    return config, model, state


def _saved_part(values: dict, saved: dict) -> dict:
    """`values` restricted to the keys (at any depth) that `saved` holds."""
    return {k: _saved_part(v, saved[k]) if isinstance(v, dict) and isinstance(saved[k], dict) else v
            for k, v in values.items() if k in saved}


def _apply(config: ml_collections.ConfigDict, values: dict) -> None:
    for key, value in values.items():
        current = config.get(key)
        if isinstance(current, ml_collections.ConfigDict):
            _apply(current, value)
        else:
            config[key] = tuple(value) if isinstance(current, tuple) else value
