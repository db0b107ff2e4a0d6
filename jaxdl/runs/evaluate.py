"""Evaluating a trained run again, possibly with different evaluation settings.

For estimates too costly at every epoch (a VAE's IWAE bound with k=5,000): the
run's saved state is evaluated with `--set` overrides of its config (model
and optimiser fields are kept, so the restored params still fit), on the
run's eval key. Each evaluation is appended to WORKDIR/evaluations.jsonl.

Launched as a multi-process job (like the run itself), every process evaluates the whole
split on its own devices and only process 0 writes and prints.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence

import jax

from jaxdl import config as config_lib, data, parallel, rng, tasks
from jaxdl.runs import saved
from jaxdl.train import optimizers, steps

_FIXED_SECTIONS = ("model", "task")  # what the checkpoint's params depend on


def evaluate(workdir: str, *, splits: Sequence[str] = (), overrides: Sequence[str] = (),
             best: bool = False) -> dict[str, dict[str, float]]:
    parallel.start()  # before anything starts the backend: a multi-process launch joins its job
    config, _, state = saved.restore(workdir, best=best)
    for item in overrides:
        if item.partition("=")[0].strip().split(".")[0] in _FIXED_SECTIONS:
            raise ValueError(f"--set {item}: evaluation cannot change the model or task of a trained run")
    config = config_lib.apply_overrides(config, overrides)
    task = tasks.make(config)
    evaluate_split = steps.make_evaluate(task, config.data.eval_batch_size)
    key = rng.streams(config.seed)["eval"]
    splits = tuple(splits or config.train.eval_splits)
    valid = data.get_spec(config.data.name).splits
    if unknown := [s for s in splits if s not in valid]:  # before any split's record is written
        raise ValueError(f"unknown split {', '.join(map(repr, unknown))} for {config.data.name}; "
                         f"valid splits: {', '.join(valid)}")
    params = optimizers.eval_params(state.params, state.opt_state)  # the EMA when the run kept one
    results = {}
    for split in splits:
        arrays = data.load_arrays(config.data.name, split, data_dir=config.data.data_dir or None)
        start = time.perf_counter()
        metrics = {k: float(v) for k, v in jax.device_get(evaluate_split(params, arrays, key)).items()}
        seconds = time.perf_counter() - start
        results[split] = metrics
        if not parallel.is_lead():
            continue
        record = {"step": int(state.step), "best": best, "split": split, "overrides": list(overrides),
                  "seconds": round(seconds, 2), **metrics}
        with open(os.path.join(workdir, "evaluations.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")
        print(f"{config.experiment} step {int(state.step)}{' (best)' if best else ''} {split}: "
              f"{task.headline(metrics)} ({seconds:.1f}s)", flush=True)
    return results
