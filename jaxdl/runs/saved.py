"""What a run left in its workdir (config.json, checkpoints/), loaded back."""

from __future__ import annotations

import json
import os

import ml_collections

from jaxdl import config as config_lib, experiments, rng, tasks
from jaxdl.models import PureModel
from jaxdl.train import checkpoint, loop, optimizers
from jaxdl.train.state import TrainState, create


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """WORKDIR/config.json as a ConfigDict, with the tuples JSON turned into lists restored.

    A damaged file (not UTF-8 JSON, no experiment, a value of the wrong type) is a one-line
    ValueError naming the file and the key.
    """
    path, values = _read(workdir)
    # The experiment's defaults give every value its type (tuple, not list).
    try:
        config = experiments.get_config(values["experiment"])
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    _apply(config, values, path)
    return config


def _read(workdir: str) -> tuple[str, dict]:
    """(WORKDIR/config.json, its JSON object with an 'experiment' name)."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        raise ValueError(f"{workdir} holds no run (no {path})")
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except (OSError, ValueError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"{path} is damaged: {type(e).__name__}: {e}") from None
    if not isinstance(values, dict) or not isinstance(values.get("experiment"), str):
        got = f"keys {sorted(values)}" if isinstance(values, dict) else type(values).__name__
        raise ValueError(f"{path} is damaged: expected a JSON object whose 'experiment' names the run's "
                         f"experiment; got {got}")
    return path, values


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
    _, saved_values = _read(workdir)
    # Keys the experiment gained after this run was saved hold their defaults (an option added
    # later leaves older behaviour as its default), so only the saved keys must match.
    fingerprint = _saved_part(loop.fingerprint(config), saved_values)
    ckpt = checkpoint.Checkpointer(os.path.join(workdir, folder), fingerprint=fingerprint)
    try:
        # First: a config.json value the checkpoint was not trained with (a damaged file, say)
        # is named as such, before a model or optimizer is built from it.
        ckpt.check_fingerprint(step)
        model = tasks.make(config).model
        # Only the state's structure matters; a warmup schedule needs more steps than its warmup.
        tx = optimizers.make_optimizer(config.optimizer, total_steps=config.optimizer.schedule.warmup_steps + 1,
                                       ema_decay=config.train.get("ema_decay", 0.0))
        keys = rng.streams(config.seed)
        target = create(model, tx, keys["init"], keys["dropout"])
        state, _ = ckpt.restore(target, step)
    finally:
        ckpt.close()
    return config, model, state


def _saved_part(values: dict, saved: dict) -> dict:
    """`values` restricted to the keys (at any depth) that `saved` holds."""
    return {k: _saved_part(v, saved[k]) if isinstance(v, dict) and isinstance(saved[k], dict) else v
            for k, v in values.items() if k in saved}


def _apply(config: ml_collections.ConfigDict, values: dict, path: str, prefix: str = "") -> None:
    for key, value in values.items():
        if key not in config:  # an option the experiment no longer has: kept as saved
            try:
                config[key] = value
            except ValueError:  # ConfigDict refuses e.g. a dotted name
                raise ValueError(f"{path} is damaged: {prefix}{key!r} cannot be a config key") from None
            continue
        current = config[key]
        if isinstance(current, ml_collections.ConfigDict):
            if not isinstance(value, dict):
                raise ValueError(f"{path} is damaged: {prefix}{key} should be a section (a JSON object); "
                                 f"got {type(value).__name__}")
            _apply(current, value, path, f"{prefix}{key}.")
        else:
            try:
                config[key] = config_lib.coerce(value, current)
            except TypeError as e:
                raise ValueError(f"{path} is damaged: {prefix}{key}: {e}") from None
