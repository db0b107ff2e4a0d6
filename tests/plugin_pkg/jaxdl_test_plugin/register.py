"""Imported once by jaxdl's `load_plugins()`: registers one dataset, one model and one experiment."""

import jax
import numpy as np
from flax import nnx

import jaxdl
from jaxdl import data
from jaxdl_test_plugin import DATASET, EXPERIMENT


class PluginMLP(nnx.Module):
    """One hidden layer: enough for XOR, which no linear model separates."""

    def __init__(self, width: int = 16, num_classes: int = 2, *, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(2, width, rngs=rngs)
        self.out = nnx.Linear(width, num_classes, rngs=rngs)

    def __call__(self, x, *, train=False, rngs=None):
        return self.out(jax.nn.relu(self.hidden(x)))


def xor_split(n: int, seed: int) -> dict[str, np.ndarray]:
    """Points in [-1, 1]^2 labelled by the sign of x0 * x1."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 2)).astype(np.float32)
    return {"x": x, "label": (x[:, 0] * x[:, 1] > 0).astype(np.int32)}


data.register_arrays(DATASET, {"train": xor_split(512, 0), "validation": xor_split(256, 1)}, input_key="x",
                     description="XOR in [-1, 1]^2 (the jaxdl_test_plugin package)")
jaxdl.experiment(PluginMLP, DATASET, name=EXPERIMENT, hparams=dict(width=16),
                 overrides=["train.epochs=2", "data.batch_size=64", "optimizer.learning_rate=1e-2"])
