"""Gradient descent with momentum and AdaGrad, written out from their update equations.

For study: each is an `optax.GradientTransformation` whose `update` is the
textbook rule on every leaf, with its running state kept in a NamedTuple.
`tests/train/test_handwritten.py` checks they produce optax's updates step for step;
`optimizer.name=momentum_scratch|nesterov_scratch|adagrad_scratch` trains any
experiment with them (see `jaxdl.train.optimizers`).

`learning_rate` may be a float or a traced scalar (inject_hyperparams passes one).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class VelocityState(NamedTuple):
    velocity: optax.Params  # v, one array per parameter


class SquaredGradSumState(NamedTuple):
    sum_sq: optax.Params  # G, one array per parameter


def gradient_descent(learning_rate) -> optax.GradientTransformation:
    """Plain gradient descent: w <- w - lr * g."""

    def update(grads, state, params=None):
        del params
        return jax.tree.map(lambda g: -learning_rate * g, grads), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def momentum(learning_rate, momentum: float = 0.9, nesterov: bool = False) -> optax.GradientTransformation:
    """Gradient descent with momentum (optax's convention: the rate is outside the velocity).

    Heavy ball (Polyak):     v <- mu * v + g;   w <- w - lr * v
    Nesterov (Sutskever's form, evaluated at the current weights):
                             v <- mu * v + g;   w <- w - lr * (g + mu * v)
    The velocity starts at zero, so the first heavy-ball step is plain gradient descent.
    """

    def init(params):
        return VelocityState(velocity=jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        del params
        velocity = jax.tree.map(lambda v, g: momentum * v + g, state.velocity, grads)
        if nesterov:
            # Look ahead: the step the velocity is about to take, added to the gradient.
            direction = jax.tree.map(lambda g, v: g + momentum * v, grads, velocity)
        else:
            direction = velocity
        return jax.tree.map(lambda d: -learning_rate * d, direction), VelocityState(velocity)

    return optax.GradientTransformation(init, update)


def adagrad(
    learning_rate, initial_accumulator_value: float = 0.1, eps: float = 1e-7
) -> optax.GradientTransformation:
    """AdaGrad (Duchi et al. 2011): each coordinate's rate shrinks with its gradient history.

        G <- G + g**2;   w <- w - lr * g / sqrt(G + eps)

    G starts at `initial_accumulator_value` (optax's default 0.1): a rarely-updated
    coordinate, e.g. the embedding of a rare user, keeps a large rate. Where G is 0
    (a zero start and zero gradients so far) the step is 0, as in optax.
    """

    def init(params):
        return SquaredGradSumState(
            sum_sq=jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params))

    def update(grads, state, params=None):
        del params
        sum_sq = jax.tree.map(lambda s, g: s + g * g, state.sum_sq, grads)
        updates = jax.tree.map(
            lambda g, s: jnp.where(s > 0, -learning_rate * g / jnp.sqrt(s + eps), 0.0), grads, sum_sq)
        return updates, SquaredGradSumState(sum_sq)

    return optax.GradientTransformation(init, update)
