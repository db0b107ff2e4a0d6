"""The Keras "simple MNIST convnet" (Chollet): conv-pool-conv-pool-dropout-dense.

`conv="im2col"` computes each convolution as shifted slices times a matrix.
On CPU, XLA's kernel-gradient convolution runs ~30x slower inside a loop
(jax-ml/jax#12868), i.e. inside the `lax.scan` that trains an epoch; im2col is
fast in and out of loops there. Both use the same parameters (tested equal);
"auto" picks im2col on CPU and XLA's convolution (cuDNN on GPU) elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxdl.models import dropout as dropout_lib, inits
from jaxdl.models.pure import PureModel, pure_model

CONV_IMPLS = ("auto", "xla", "im2col")


def im2col_conv(x_BxHxWxC: jax.Array, kernel_KxKxCxF: jax.Array, bias_F: jax.Array) -> jax.Array:
    """VALID, stride-1 convolution as one matmul over stacked shifted slices."""
    return _im2col_matmul(x_BxHxWxC, kernel_KxKxCxF) + bias_F[None, None, None, :]


def _im2col_matmul(x_BxHxWxC: jax.Array, kernel_KxKxCxF: jax.Array) -> jax.Array:
    """The convolution without its bias."""
    kh, kw, c, f = kernel_KxKxCxF.shape
    b, h, w = x_BxHxWxC.shape[0], x_BxHxWxC.shape[1] - kh + 1, x_BxHxWxC.shape[2] - kw + 1
    patches = jnp.concatenate(
        [x_BxHxWxC[:, i : i + h, j : j + w, :] for i in range(kh) for j in range(kw)], axis=-1
    )
    # One 2-D matmul: its kernel gradient is then a plain (K*K*C, N) x (N, F) product, not a
    # dot contracting three axes (slower on XLA:CPU: mnist_cnn step 0.37 -> 0.35 CPU s at b128).
    out_NxF = patches.reshape(b * h * w, kh * kw * c) @ kernel_KxKxCxF.reshape(kh * kw * c, f)
    return out_NxF.reshape(b, h, w, f)


def max_pool_2x2(x_BxHxWxC: jax.Array) -> jax.Array:
    """2x2 max-pool with stride 2 (odd edges dropped, as VALID pooling) as a reshape and a max.

    Same values as `nnx.max_pool`; its gradient is elementwise where reduce_window's is a
    select-and-scatter, slow on XLA:CPU (mnist_cnn train step at b128: 64 -> 36 ms CPU time).
    """
    b, h, w, c = x_BxHxWxC.shape
    x = x_BxHxWxC[:, : h // 2 * 2, : w // 2 * 2, :]
    return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


# max(act(x)) == act(max(x)) for these: apply them after the pool, on a quarter of the values.
MONOTONE = ("relu", "sigmoid", "tanh")


def im2col_conv_act_pool(x_BxHxWxC: jax.Array, kernel_KxKxCxF: jax.Array, bias_F: jax.Array,
                         act, act_is_monotone: bool) -> jax.Array:
    """`max_pool_2x2(act(im2col_conv(x, kernel, bias)))`, with the same values, computed cheaper.

    The convolution runs only over the rows and columns the pool reads (an odd edge is dropped:
    mnist_cnn's second conv computes 10x10 of its 11x11 outputs), and the bias, and a monotone
    activation, come after the pool: max(z + b) == max(z) + b exactly (rounding is monotone);
    the gradients agree up to summation order (tested against the unfused order).
    mnist_cnn train step at b128: 1.2x faster on XLA:CPU (benchmarks/README.md).
    """
    kh, kw = kernel_KxKxCxF.shape[:2]
    h, w = (x_BxHxWxC.shape[1] - kh + 1) // 2 * 2, (x_BxHxWxC.shape[2] - kw + 1) // 2 * 2
    x_cropped = x_BxHxWxC[:, : h + kh - 1, : w + kw - 1, :]
    if not act_is_monotone:
        return max_pool_2x2(act(im2col_conv(x_cropped, kernel_KxKxCxF, bias_F)))
    return act(max_pool_2x2(_im2col_matmul(x_cropped, kernel_KxKxCxF)) + bias_F[None, None, None, :])


class CNN(nnx.Module):
    def __init__(
        self,
        image_shape: Sequence[int],
        num_classes: int,
        *,
        features: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        activation: str = "relu",
        dropout: float = 0.5,
        dropout_impl: str = "nnx",
        conv: str = "auto",
        rngs: nnx.Rngs,
    ):
        if conv not in CONV_IMPLS:
            raise ValueError(f"unknown conv '{conv}'; valid: {', '.join(CONV_IMPLS)}")
        if conv == "auto":
            conv = "im2col" if jax.default_backend() == "cpu" else "xla"
        self.conv_impl = conv
        height, width, channels = image_shape
        self.act = inits.activation(activation)
        self.act_is_monotone = activation in MONOTONE
        self.convs = nnx.List()
        for c_in, c_out in zip((channels, *features[:-1]), features):
            self.convs.append(
                nnx.Conv(c_in, c_out, (kernel_size, kernel_size), padding="VALID", rngs=rngs)
            )
            # VALID conv then 2x2 max-pool (floor), as in the Keras example.
            height, width = (height - kernel_size + 1) // 2, (width - kernel_size + 1) // 2
        self.dropout = dropout_lib.make(dropout, dropout_impl)
        self.head = nnx.Linear(height * width * features[-1], num_classes, rngs=rngs)

    def __call__(self, x_BxHxWxC: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        h = x_BxHxWxC
        for conv in self.convs:
            if self.conv_impl == "xla":
                h = max_pool_2x2(self.act(conv(h)))
            else:
                h = im2col_conv_act_pool(h, conv.kernel[...], conv.bias[...], self.act, self.act_is_monotone)
        h = h.reshape(h.shape[0], -1)
        return self.head(self.dropout(h, deterministic=not train, rngs=rngs))


def make(input_shape: Sequence[int], num_classes: int, **hparams) -> PureModel:
    if len(input_shape) != 3:
        raise ValueError(f"cnn needs (height, width, channels) inputs, got {tuple(input_shape)}")
    return pure_model(
        "cnn", CNN, tuple(input_shape), image_shape=tuple(input_shape), num_classes=num_classes,
        **hparams,
    )
