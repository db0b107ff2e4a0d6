"""Your own model, data and task as an experiment: the same loop, sweeps, checkpoints and figures.

    config = experiments.experiment(MyNet, {"train": {...}, "validation": {...}}, hparams=dict(width=64),
                                    overrides=["train.epochs=5"])
    result = loop.train(config, "runs/mine")        # or jaxdl.fit(MyNet, data, ...)
    sweep.run(config, seeds=4, grid={"optimizer.learning_rate": [1e-3, 3e-3]})

`experiment` registers what it is given under readable names (the model's class or function
name, the experiment's name, a content hash for arrays) through the same public registries as
jaxdl's own entries, and returns a plain config naming them; config.json records where each
came from (`sources`). Registering again from the same code replaces the entry.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ml_collections

from jaxdl import config as config_lib, data as data_lib, models, tasks
from jaxdl.data import arrays as arrays_lib
from jaxdl.experiments import EXPERIMENTS, common
from jaxdl.models import user


def experiment(model: Any, data: Any, *, task: str | Callable = "classification", name: str | None = None,
               hparams: Mapping[str, Any] | None = None, overrides: Sequence[str] = (),
               register: bool = True) -> ml_collections.ConfigDict:
    """A config that trains `model` on `data` for `task`, registered as experiment `name`.

    model: an nnx.Module class, a PureModel, an (init, apply) pair, or a model name the task has.
    data: {split: {key: array}} (example axis first; 'train' required), a path to an .npz file of
      "SPLIT/KEY" arrays, or a registered dataset name (any TFDS dataset jaxdl knows, prepared).
    task: a task name ("classification" by default) or a task factory such as `tasks.custom.supervised(...)`.
    hparams: the model's constructor arguments (config `model.*`, --set-able: `--set model.width=128`).
    overrides: `--set` items applied last, e.g. "train.epochs=5", "optimizer.learning_rate=3e-3".
    register: False leaves experiment `name` as it is: a plugin's experiment function, registered
      lazily under `name`, builds its config with this call (the model, task and data are registered).
    """
    task_name, task_source = _register_task(task, name)
    model_name, model_source = _register_model(model, task_name)
    dataset, data_source = _register_data(data)
    name = name or model_name
    config = common.base(task_name, dataset)
    config.experiment = name
    config.model = ml_collections.ConfigDict({"name": model_name, **(hparams or {})})
    config.optimizer.update(name="adam", learning_rate=1e-3)  # a default that trains most models
    if task_name == "classification":
        config.loss = ml_collections.ConfigDict(dict(name="cross_entropy", output="softmax"))
    config.train.eval_splits = tuple(s for s in data_lib.get_spec(dataset).splits if s != "train")
    config.sources = ml_collections.ConfigDict(dict(model=model_source, data=data_source, task=task_source))
    config = config_lib.apply_overrides(config, overrides)
    if not register:
        return config
    frozen = copy.deepcopy(config)

    def get_config() -> ml_collections.ConfigDict:
        return copy.deepcopy(frozen)

    get_config.__doc__ = f"{model_name} on {dataset} ({task_name}; {model_source})"  # its line in `jaxdl list`
    # The origin is the model's code, not the data: the same code run again on other arrays (a
    # notebook cell, a study variant) replaces the entry; another model under this name is a clash.
    EXPERIMENTS.register(name, get_config, origin=f"experiment({model_source})")
    return config


def fit(model: Any, data: Any, *, workdir: str | None = None, resume: bool = False, overwrite: bool = False,
        live: bool | None = None, **options: Any):
    """`experiment(model, data, **options)` trained by the shared loop (`jaxdl.train.loop.train`); its RunResult.

    `live`: redraw the progress line in place (default: when stdout is a terminal).
    """
    from jaxdl.train import loop

    return loop.train(experiment(model, data, **options), workdir, resume=resume, overwrite=overwrite, live=live)


def _register_task(task: str | Callable, name: str | None) -> tuple[str, str]:
    if isinstance(task, str):
        tasks.TASKS.get_or_raise(task)
        return task, task
    if not callable(task):
        raise ValueError(f"task must be a task name ({', '.join(tasks.TASKS)}) or a factory (config) -> Task; "
                         f"got {type(task).__name__}")
    task_name = f"{name or 'custom'}_task"
    source = f"{getattr(task, '__module__', '?')}:{getattr(task, '__qualname__', type(task).__name__)}"
    tasks.register_task(task_name, task, origin=f"experiment task {task_name}")
    return task_name, source


def _register_model(model: Any, task_name: str) -> tuple[str, str]:
    if isinstance(model, str):
        models.model_factory(task_name, model)
        return model, f"{task_name} model {model}"
    model_name, source = user.display_name(model), user.origin(model)
    models.register_model(task_name, model_name, user.as_factory(model, model_name), origin=source)
    return model_name, source


def _register_data(data: Any) -> tuple[str, str]:
    if isinstance(data, str) and not data.endswith(".npz"):
        data_lib.get_spec(data)
        return data, data
    if isinstance(data, (str, os.PathLike)):
        splits, source = arrays_lib.load_npz(os.fspath(data)), os.path.abspath(data)
    elif isinstance(data, Mapping):
        splits, source = data, "in-memory arrays"
    else:
        raise ValueError("data must be {split: {key: array}}, a path to an .npz file or a dataset name; "
                         f"got {type(data).__name__}")
    checked = arrays_lib.check_splits(splits)
    name = f"arrays_{arrays_lib.fingerprint(checked)}"
    inputs = [k for k in checked["train"] if k != "label"]
    if not inputs:
        raise ValueError(f"data has only {sorted(checked['train'])}: a model needs an input array beside the labels")
    input_key = "image" if "image" in inputs else inputs[0]
    data_lib.register_arrays(name, checked, input_key=input_key)
    return name, f"{source} as {name}"
