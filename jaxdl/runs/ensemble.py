"""An ensemble of trained runs: the mean of their predicted class probabilities (classifiers)
or of their predictions (regression).

    jaxdl ensemble RUN_A RUN_B [...] [--splits validation test]
    jaxdl ensemble --train diamonds_embeddings --seeds 5 --workdir runs/diamonds_ensemble

Each member is a finished run's best-validation state (its final state if it kept none),
and all must be trained on the same dataset, so their examples line up. Members are
weighted equally, so nothing is fitted on validation or test: the ensemble's choice is
only which runs it holds. `--train NAME --seeds K` first trains NAME with seeds 0..K-1
(`jaxdl.studies.ensemble`, in WORKDIR/seedS; an earlier run there is an error, or replaced with
`--overwrite`); `jaxdl table CORPUS ... --ensemble A+B` builds one per split seed of a
sentiment corpus.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax
import numpy as np

from jaxdl import data
from jaxdl.runs import saved
from jaxdl.tasks import regression

REGRESSION_TASKS = ("regression",)


def member_outputs(workdir: str, splits: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray, str, str]]:
    """Per split, (outputs N x K, targets N, dataset name, kind) of one trained run (restored once):
    class probabilities for a classifier (kind "classification"), predictions (K = 1) for "regression"."""
    best = os.path.isdir(os.path.join(workdir, "best"))
    config, model, params = saved.restore_params(workdir, best=best)
    kind = "regression" if config.task in REGRESSION_TASKS else "classification"
    target = "y" if kind == "regression" else "label"

    @jax.jit
    def predict(params, x):
        out = model.apply(params, x, train=False)
        return jax.nn.softmax(out, axis=-1) if kind == "classification" else out.reshape(len(out), 1)

    results = {}
    for split in splits:
        arrays = data.load_arrays(config.data.name, split, config.data.data_dir or None)
        if isinstance(model.input_shape, dict):
            inputs = regression.model_inputs(model, arrays)
        else:
            others = [k for k in arrays if k != target]
            if target not in arrays or len(others) != 1:
                raise ValueError(f"{workdir}: an ensemble needs a dataset with one input and a {target!r} "
                                 f"(classification or regression); {config.data.name!r} holds {sorted(arrays)}")
            inputs = arrays[others[0]]
        n, size = len(arrays[target]), config.data.eval_batch_size
        outputs = np.concatenate([np.asarray(predict(params, jax.tree.map(lambda a: a[i:i + size], inputs)))
                                  for i in range(0, n, size)])
        results[split] = (outputs, np.asarray(arrays[target]), config.data.name, kind)
    return results


def _scores(outputs_NxK: np.ndarray, targets_N: np.ndarray, kind: str) -> dict[str, float]:
    if kind == "classification":
        correct = int((outputs_NxK.argmax(1) == targets_N).sum())
        return {"accuracy": correct / len(targets_N), "correct": correct, "count": len(targets_N)}
    err = outputs_NxK[:, 0] - targets_N
    return {"rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err))), "count": len(targets_N)}


def evaluate(workdirs: Sequence[str], splits: Sequence[str] = ("validation", "test")) -> dict[str, dict]:
    """Per split: the ensemble's scores (accuracy, or rmse and mae) and each member's, under "members"."""
    if len(workdirs) < 2:
        raise ValueError(f"an ensemble needs at least 2 runs; got {list(workdirs)}")
    outputs = [member_outputs(w, splits) for w in workdirs]
    results = {}
    for split in splits:
        members = [o[split] for o in outputs]
        datasets, kinds = {m[2] for m in members}, {m[3] for m in members}
        if len(datasets) > 1 or len(kinds) > 1:
            raise ValueError(f"ensemble members differ in dataset or kind of task: "
                             f"{ {w: m[2:] for w, m in zip(workdirs, members)} }")
        targets_N, kind = members[0][1], members[0][3]
        if any(m[0].shape != members[0][0].shape or not np.array_equal(m[1], targets_N) for m in members):
            raise ValueError(f"ensemble members' {split} predictions do not line up (different shapes or targets)")
        results[split] = {**_scores(np.mean([m[0] for m in members], axis=0), targets_N, kind),
                          "members": [_scores(m[0], targets_N, kind) for m in members]}
    return results
