"""Fully connected network (Nielsen's `network.py`, as an NNX module).

Returns logits: the output nonlinearity (sigmoid or softmax) lives in the
loss, fused with it for numerical stability (see `jaxdl.tasks.losses`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
from flax import nnx

from jaxdl.models import dropout as dropout_lib, inits
from jaxdl.models.pure import PureModel, pure_model


class MLP(nnx.Module):
    def __init__(
        self,
        sizes: Sequence[int],
        *,
        activation: str = "relu",
        kernel_init: str = "lecun_normal",
        init_scale: float = 1.0,
        bias_init: str = "zeros",
        bias_scale: float = 1.0,
        dropout: float = 0.0,
        dropout_impl: str = "nnx",
        rngs: nnx.Rngs,
    ):
        if len(sizes) < 2:
            raise ValueError(f"MLP sizes need an input and an output width, got {tuple(sizes)}")
        self.act = inits.activation(activation)
        self.layers = nnx.List(
            nnx.Linear(
                n_in,
                n_out,
                kernel_init=inits.kernel_init(kernel_init, init_scale),
                bias_init=inits.bias_init(bias_init, bias_scale),
                rngs=rngs,
            )
            for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        self.dropout = dropout_lib.make(dropout, dropout_impl)

    def __call__(self, x_BxD: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        h = x_BxD.reshape(x_BxD.shape[0], -1)
        for layer in self.layers[:-1]:
            h = self.dropout(self.act(layer(h)), deterministic=not train, rngs=rngs)
        return self.layers[-1](h)


def make(
    input_shape: Sequence[int],
    num_classes: int,
    hidden: Sequence[int] = (100,),
    **hparams,
) -> PureModel:
    """MLP from `prod(input_shape)` through `hidden` to `num_classes` logits.

    Inputs may be images: everything after the batch axis is flattened.
    """
    sizes = (math.prod(input_shape), *hidden, num_classes)
    return pure_model("mlp", MLP, tuple(input_shape), sizes=sizes, **hparams)
