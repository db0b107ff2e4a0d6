"""jaxdl: classic deep-learning explorations as clean, fast, tested JAX, and a library to train your own.

    import jaxdl
    result = jaxdl.fit(MyModule, {"train": {"image": x, "label": y}, "validation": {...}},
                       hparams=dict(width=64), overrides=["train.epochs=5"], workdir="runs/mine")

`fit` and `experiment` (jaxdl.experiments.custom) are imported on first use, so `import jaxdl`
stays cheap; everything else lives in its package (models, tasks, data, train, sweep, ...).
"""

import importlib

__version__ = "0.1.0"

_LAZY = {"fit": "jaxdl.experiments.custom", "experiment": "jaxdl.experiments.custom"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'jaxdl' has no attribute {name!r}")


__all__ = ["experiment", "fit"]
