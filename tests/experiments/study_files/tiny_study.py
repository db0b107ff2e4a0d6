"""A study file as a user writes one, outside jaxdl: their own NNX model and data, trained with
`jaxdl train tests/experiments/study_files/tiny_study.py` (or `...tiny_study.py:wide`).

The task: XOR of two coordinates in [-1, 1]^2, which no linear model separates; a small MLP
reaches about 0.97 validation accuracy in a few hundred steps on CPU.
"""

import jax
import numpy as np
from flax import nnx

import jaxdl


class XorMLP(nnx.Module):
    """One hidden ReLU layer with dropout (so every training step depends on its dropout key)."""

    def __init__(self, width: int = 16, dropout: float = 0.0, num_classes: int = 2, *, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(2, width, rngs=rngs)
        self.dropout = nnx.Dropout(dropout)
        self.out = nnx.Linear(width, num_classes, rngs=rngs)

    def __call__(self, x, *, train=False, rngs=None):
        h = self.dropout(jax.nn.relu(self.hidden(x)), deterministic=not train, rngs=rngs)
        return self.out(h)


def xor(n: int, seed: int) -> dict[str, np.ndarray]:
    """n points uniform in [-1, 1]^2, labelled 1 where x0 * x1 > 0."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 2)).astype(np.float32)
    return {"x": x, "label": (x[:, 0] * x[:, 1] > 0).astype(np.int32)}


DATA = {"train": xor(1024, 0), "validation": xor(256, 1), "test": xor(256, 2)}
SETTINGS = ["train.epochs=10", "data.batch_size=64", "optimizer.learning_rate=1e-2"]


def get_config():
    """The study: a 16-unit MLP."""
    return jaxdl.experiment(XorMLP, DATA, name="tiny_study", hparams=dict(width=16, dropout=0.1),
                            overrides=SETTINGS)


def wide():
    """A variant: 64 hidden units (`jaxdl train tiny_study.py:wide`)."""
    return jaxdl.experiment(XorMLP, DATA, name="tiny_study_wide", hparams=dict(width=64, dropout=0.1),
                            overrides=SETTINGS)
