"""Imported once by jaxdl's `load_plugins()` (so by every `jaxdl list`): registers one dataset and
one experiment by name and imports nothing heavy. The experiment is a lazy "module:function" entry;
its module imports the model, and JAX, only when the experiment is built."""

import numpy as np

from jaxdl import data, experiments
from jaxdl_test_plugin import DATASET, EXPERIMENT


def xor_split(n: int, seed: int) -> dict[str, np.ndarray]:
    """Points in [-1, 1]^2 labelled by the sign of x0 * x1."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 2)).astype(np.float32)
    return {"x": x, "label": (x[:, 0] * x[:, 1] > 0).astype(np.int32)}


data.register_arrays(DATASET, {"train": xor_split(512, 0), "validation": xor_split(256, 1)}, input_key="x",
                     description="XOR in [-1, 1]^2 (the jaxdl_test_plugin package)")
experiments.register_experiment(EXPERIMENT, "jaxdl_test_plugin.experiments:plugin_xor_mlp")
