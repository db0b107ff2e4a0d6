"""Costs on logits, with the output nonlinearity fused in, and metrics.

Nielsen's networks put sigmoid (ch.1, ch.3) or softmax (ch.3) neurons at the
output; here the model returns logits and the loss applies that output
activation itself, so cross-entropies are computed stably from logits.
`softmax_of_sigmoid` is the output of Guppy16's no-hidden-layer cross-entropy
notebook: its net ends in a sigmoid and PyTorch's `CrossEntropyLoss` then takes a
softmax of those sigmoid outputs, so the loss is -log softmax(sigmoid(z))_y.
Every loss returns per-example values; the caller averages.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

LossFn = Callable[[jax.Array, jax.Array], jax.Array]  # (logits_BxK, labels_B) -> loss_B

LOSSES = ("cross_entropy", "quadratic")
OUTPUTS = ("softmax", "sigmoid", "linear", "softmax_of_sigmoid")


def softmax_cross_entropy(logits_BxK: jax.Array, labels_B: jax.Array) -> jax.Array:
    """Softmax outputs with the log-likelihood cost: -log softmax(z)_y."""
    return optax.softmax_cross_entropy_with_integer_labels(logits_BxK, labels_B)


def sigmoid_cross_entropy(logits_BxK: jax.Array, labels_B: jax.Array) -> jax.Array:
    """Nielsen ch.3 cross-entropy on sigmoid outputs: -sum_j y ln a + (1-y) ln(1-a)."""
    y_BxK = jax.nn.one_hot(labels_B, logits_BxK.shape[-1], dtype=logits_BxK.dtype)
    return optax.sigmoid_binary_cross_entropy(logits_BxK, y_BxK).sum(axis=-1)


def softmax_of_sigmoid_cross_entropy(logits_BxK: jax.Array, labels_B: jax.Array) -> jax.Array:
    """PyTorch's CrossEntropyLoss on sigmoid outputs: -log softmax(sigmoid(z))_y."""
    return optax.softmax_cross_entropy_with_integer_labels(jax.nn.sigmoid(logits_BxK), labels_B)


def quadratic(output: str = "sigmoid") -> LossFn:
    """Nielsen ch.1 quadratic cost 1/2 ||y - a||^2 with a = output(z), y one-hot."""
    act = _output_fn(output)

    def loss(logits_BxK: jax.Array, labels_B: jax.Array) -> jax.Array:
        y_BxK = jax.nn.one_hot(labels_B, logits_BxK.shape[-1], dtype=logits_BxK.dtype)
        return 0.5 * jnp.sum((act(logits_BxK) - y_BxK) ** 2, axis=-1)

    return loss


def make_loss(name: str, output: str) -> LossFn:
    """The cost `name` for output neurons `output` (see module docstring)."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss '{name}'; valid losses: {', '.join(LOSSES)}")
    if output not in OUTPUTS:
        raise ValueError(f"unknown output '{output}'; valid outputs: {', '.join(OUTPUTS)}")
    if name == "quadratic":
        return quadratic(output)
    if output == "softmax":
        return softmax_cross_entropy
    if output == "sigmoid":
        return sigmoid_cross_entropy
    if output == "softmax_of_sigmoid":
        return softmax_of_sigmoid_cross_entropy
    raise ValueError("cross_entropy needs softmax, sigmoid or softmax_of_sigmoid outputs, not linear")


def correct(logits_BxK: jax.Array, labels_B: jax.Array) -> jax.Array:
    """1.0 where the largest logit is the label (same for any monotone output)."""
    return (jnp.argmax(logits_BxK, axis=-1) == labels_B).astype(jnp.float32)


def _output_fn(output: str) -> Callable[[jax.Array], jax.Array]:
    fns = {"softmax": jax.nn.softmax, "sigmoid": jax.nn.sigmoid, "linear": lambda z: z,
           "softmax_of_sigmoid": lambda z: jax.nn.softmax(jax.nn.sigmoid(z))}
    if output not in fns:
        raise ValueError(f"unknown output '{output}'; valid outputs: {', '.join(OUTPUTS)}")
    return fns[output]
