"""Weight and bias initialisers by name, each scaled by `scale`.

Nielsen's two MLP inits are `normal` (N(0, 1), ch.1) and `scaled_normal`
(N(0, 1/n_in), ch.3); the rest are the usual variance-scaling family.
`torch_default` is PyTorch's `nn.Linear` default: kaiming_uniform(a=sqrt(5)) kernels,
i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with biases drawn from the same bound
(`torch_default_bias`, which needs the fan-in a bias's own shape does not carry).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.nn import initializers as jinit

_BASE = {
    "normal": jinit.normal(stddev=1.0),
    # Plain (untruncated) normal with variance 1/fan_in, as Nielsen writes it.
    "scaled_normal": jinit.variance_scaling(1.0, "fan_in", "normal"),
    "lecun_normal": jinit.lecun_normal(),
    # Variance 1/(3 fan_in): the uniform of half-width 1/sqrt(fan_in), for (fan_in, ...) kernels.
    "torch_default": jinit.variance_scaling(1.0 / 3.0, "fan_in", "uniform"),
    "glorot_uniform": jinit.glorot_uniform(),
    "glorot_normal": jinit.glorot_normal(),
    "he_normal": jinit.he_normal(),
    "he_uniform": jinit.he_uniform(),
    "orthogonal": jinit.orthogonal(),
    "uniform": jinit.uniform(scale=2.0),  # shifted below to U(-1, 1)
    "zeros": jinit.zeros,
}
KERNEL_INITS = tuple(sorted(_BASE))
BIAS_INITS = ("zeros", "normal")


def kernel_init(name: str, scale: float = 1.0) -> jinit.Initializer:
    if name not in _BASE:
        raise ValueError(f"unknown kernel init '{name}'; valid: {', '.join(KERNEL_INITS)}")
    base = _BASE[name]

    def init(key, shape, dtype=jnp.float32):
        w = base(key, shape, dtype)
        if name == "uniform":
            w = w - 1.0
        return scale * w

    return init


def bias_init(name: str, scale: float = 1.0) -> jinit.Initializer:
    if name not in BIAS_INITS:
        raise ValueError(f"unknown bias init '{name}'; valid: {', '.join(BIAS_INITS)}")
    return jinit.zeros if name == "zeros" else jinit.normal(stddev=scale)


def torch_default_bias(fan_in: int) -> jinit.Initializer:
    """PyTorch's `nn.Linear` bias init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def activation(name: str):
    fns = {"sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "tanh": jnp.tanh, "gelu": jax.nn.gelu,
           "silu": jax.nn.silu}
    if name not in fns:
        raise ValueError(f"unknown activation '{name}'; valid: {', '.join(fns)}")
    return fns[name]
