"""A trained run's inference function, serialized with `jax.export` for cpu, cuda and tpu.

`export(workdir)` writes a folder (default WORKDIR/export, or WORKDIR/export_best with `best`):

    inference.jaxexport  `jax.export.Exported.serialize()`: the StableHLO of
                         `f(params, x) = model.apply(params, x, train=False)`, lowered for every
                         platform asked for, with a symbolic batch axis `b`
    params.npz           the params' leaves, named by their path in the params tree; the function
                         takes them as a list in the order export.json's "params" gives
    export.json          experiment, step, platforms, input/output shapes and dtypes, how to call it

The params are an argument of the exported function, not closed-over constants: the serialized
program stays small (a few hundred KB of StableHLO, not the weights again), and the same program
runs any params of the architecture (another checkpoint of the run, a sweep member).
`load(folder)` deserializes it and returns `x -> outputs`, runnable without jaxdl's model code.

The model's input is what the run's task feeds it, taken from one row of the run's data (so its
dtype is exact): images, token ids, node ids, regression features, or a language model's
`lm.seq_len` token ids. Attention is traced once for all platforms, with the implementation of
the exporting machine's backend; both run everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence

import jax
import numpy as np

from jaxdl import data
from jaxdl.runs import saved
from jaxdl.tasks import char_lm, classification, regression
from jaxdl.train import optimizers

PLATFORMS = ("cpu", "cuda", "rocm", "tpu")
PROGRAM, PARAMS, INFO = "inference.jaxexport", "params.npz", "export.json"

# Task name -> (config, model, one batch of the run's data) -> the model's input in that batch.
_MODEL_INPUTS: dict[str, Callable] = {
    "classification": lambda config, model, batch: batch[classification.input_key(config)],
    "text_classification": lambda config, model, batch: batch["tokens"],
    "node_classification": lambda config, model, batch: batch["node"],
    "regression": lambda config, model, batch: regression.model_inputs(model, batch),
    "char_lm": lambda config, model, batch: char_lm.sequences(batch["ids"], config.lm.seq_len)[0],
}


def export(workdir: str, *, best: bool = False, platforms: Sequence[str] = ("cpu", "cuda", "tpu"),
           out: str | None = None) -> str:
    """Writes the run's inference function and params into `out`; returns a line saying where."""
    platforms = _check_platforms(platforms)
    out = out or os.path.join(workdir, "export_best" if best else "export")
    if os.path.exists(out) and os.listdir(out) and not os.path.exists(os.path.join(out, INFO)):
        raise ValueError(f"--out {out} exists and holds something other than an export; choose another folder")
    task_name = saved.load_config(workdir).get("task", "classification")
    if task_name not in _MODEL_INPUTS:  # before restoring anything
        raise ValueError(f"export supports runs of the tasks {', '.join(_MODEL_INPUTS)}; "
                         f"{workdir} is a {task_name} run")
    config, model, state = saved.restore(workdir, best=best)
    row = data.load_arrays(config.data.name, "train", data_dir=config.data.data_dir or None, max_examples=1)
    example = model_input(config, model, row)
    (batch,) = jax.export.symbolic_shape("b")
    x_spec = jax.tree.map(lambda a: jax.ShapeDtypeStruct((batch, *a.shape[1:]), a.dtype), example)

    params = optimizers.eval_params(state.params, state.opt_state)  # the EMA when the run kept one
    leaves, params_tree = jax.tree_util.tree_flatten_with_path(jax.device_get(params))
    names = [jax.tree_util.keystr(path) for path, _ in leaves]

    # A flat list of params: serialization takes only string-keyed dicts (NNX lists have int keys).
    def infer(param_leaves, x):
        return model.apply(jax.tree.unflatten(params_tree, param_leaves), x, train=False)

    exported = jax.export.export(jax.jit(infer), platforms=platforms)([leaf for _, leaf in leaves], x_spec)
    info = {
        "experiment": config.experiment, "workdir": os.path.abspath(workdir), "step": int(state.step),
        "best": best, "task": task_name, "model": model.name, "platforms": list(exported.platforms),
        "input": _describe(exported.in_avals[len(names):], jax.tree.structure(x_spec)),
        "output": _describe(exported.out_avals, exported.out_tree),
        "params": names,
        "call": "from jaxdl.runs import export; f = export.load(FOLDER); y = f(x)  # x: the input above, "
                "any batch size b. Without jaxdl: jax.export.deserialize(bytearray(open(FOLDER/"
                f"{PROGRAM}, 'rb').read())).call(params, x), params = the {PARAMS} arrays in the order "
                "of 'params' (a list)",
    }
    _write_atomically(out, exported.serialize(), {name: np.asarray(leaf) for name, (_, leaf) in
                                                  zip(names, leaves)}, info)
    return f"{config.experiment} step {int(state.step)}{' (best)' if best else ''}: exported for " \
           f"{', '.join(exported.platforms)} to {out}"


def model_input(config, model, batch):
    """The model's input in `batch` (a dict of the run's data), as the run's task feeds it."""
    return _MODEL_INPUTS[config.get("task", "classification")](config, model, batch)


def load(folder: str) -> Callable:
    """The exported inference function of `folder` with its params bound: `x -> outputs`."""
    with open(os.path.join(folder, INFO), encoding="utf-8") as f:
        info = json.load(f)
    with open(os.path.join(folder, PROGRAM), "rb") as f:
        exported = jax.export.deserialize(bytearray(f.read()))
    with np.load(os.path.join(folder, PARAMS)) as arrays:
        leaves = [arrays[name] for name in info["params"]]
    return lambda x: exported.call(leaves, x)


def _check_platforms(platforms: Sequence[str]) -> tuple[str, ...]:
    platforms = tuple(p.strip() for p in platforms if p.strip())
    if not platforms or (unknown := [p for p in platforms if p not in PLATFORMS]):
        got = ", ".join(map(repr, unknown)) if platforms else "none"
        raise ValueError(f"unknown platform {got}; valid platforms: {', '.join(PLATFORMS)}")
    return platforms


def _describe(avals, tree) -> object:
    """Shapes (a symbolic batch axis as its name) and dtypes, in the structure of `tree`."""
    return jax.tree.unflatten(tree, [{"shape": [d if isinstance(d, int) else str(d) for d in a.shape],
                                      "dtype": str(a.dtype)} for a in avals])


def _write_atomically(out: str, program: bytes, arrays: dict[str, np.ndarray], info: dict) -> None:
    """All three files or none: written into a sibling folder, then moved into place."""
    staging = f"{out.rstrip(os.sep)}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    with open(os.path.join(staging, PROGRAM), "wb") as f:
        f.write(program)
    np.savez(os.path.join(staging, PARAMS), **arrays)
    with open(os.path.join(staging, INFO), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(staging, out)
