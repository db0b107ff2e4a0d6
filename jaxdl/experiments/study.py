"""Experiments in your own files: `jaxdl train path/to/study.py[:function]`.

A study file is plain Python: it defines `get_config()` (and any other functions returning a
config, named after a colon), and registers whatever models, tasks and datasets it needs through
the public registries when imported. jaxdl imports it under a module name derived from its path,
so registering again from a re-imported file replaces, never clashes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from types import ModuleType

import ml_collections


def is_study(name: str) -> bool:
    """Whether `name` names a study file ("x.py" or "x.py:fn") rather than a registered experiment."""
    return name.partition(":")[0].endswith(".py")


def split(name: str) -> tuple[str, str]:
    """"path/to/study.py:fn" -> (absolute path, "fn"); the function defaults to get_config."""
    path, _, function = name.partition(":")
    return os.path.abspath(os.path.expanduser(path)), function or "get_config"


def load(path: str) -> ModuleType:
    """Imports the study file at `path` (once per process)."""
    if not os.path.isfile(path):
        raise ValueError(f"study file {path} not found (moved or renamed?); give its current path, "
                         "e.g. jaxdl train path/to/study.py")
    module_name = f"jaxdl_study_{os.path.splitext(os.path.basename(path))[0]}_" \
                  f"{hashlib.sha1(path.encode()).hexdigest()[:8]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[module_name]
        raise
    return module


def get_config(name: str) -> ml_collections.ConfigDict:
    """The config from study file `name` ("path.py" or "path.py:fn"), its `experiment` the full name."""
    path, function = split(name)
    module = load(path)
    make = getattr(module, function, None)
    if not callable(make):
        found = [k for k, v in vars(module).items() if inspect.isfunction(v) and not k.startswith("_") and
                 v.__module__ == module.__name__]
        raise ValueError(f"study file {path} defines no function {function}(); its functions: {', '.join(found)}")
    config = make()
    if not isinstance(config, ml_collections.ConfigDict):
        raise ValueError(f"{path}:{function}() must return an ml_collections.ConfigDict; got {type(config).__name__}")
    config.experiment = path if function == "get_config" else f"{path}:{function}"
    return config

