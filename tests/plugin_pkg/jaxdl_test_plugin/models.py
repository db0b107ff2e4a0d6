"""The plugin's model: imported only when its experiment is built (it needs JAX and Flax)."""

import jax
from flax import nnx


class PluginMLP(nnx.Module):
    """One hidden layer: enough for XOR, which no linear model separates."""

    def __init__(self, width: int = 16, num_classes: int = 2, *, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(2, width, rngs=rngs)
        self.out = nnx.Linear(width, num_classes, rngs=rngs)

    def __call__(self, x, *, train=False, rngs=None):
        return self.out(jax.nn.relu(self.hidden(x)))
