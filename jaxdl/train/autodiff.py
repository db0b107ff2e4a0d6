"""Gradient descent by hand and a finite-difference check of `jax.grad`, for small functions.

The autodiff notebook's two tools: `gradient_descent` is the update rule
`x <- x - learning_rate * grad f(x)` written out (no optax), scanned so the whole trajectory
comes back; `finite_difference_grad` is the central-difference estimate that `jax.grad`
should agree with.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp


def gradient_descent(f: Callable[[jax.Array], jax.Array], x0: jax.Array, learning_rate: float,
                     steps: int) -> tuple[jax.Array, jax.Array]:
    """Plain gradient descent on scalar `f` from `x0`: (x_0..x_steps, f(x_0)..f(x_steps)).

    Returns `steps + 1` points, the start included, stacked along a new first axis.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    x0 = jnp.asarray(x0, jnp.float32)
    value_and_grad = jax.value_and_grad(f)

    def step(x, _):
        value, grad = value_and_grad(x)
        return x - learning_rate * grad, (x, value)

    last, (xs, values) = jax.lax.scan(step, x0, length=steps)
    xs = jnp.concatenate([xs, last[None]])
    return xs, jnp.concatenate([values, f(last)[None]])


def finite_difference_grad(f: Callable[[jax.Array], jax.Array], x: jax.Array, eps: float = 1e-3
                           ) -> jax.Array:
    """Central differences (f(x + eps e_i) - f(x - eps e_i)) / 2 eps for every coordinate i."""
    x = jnp.asarray(x, jnp.float32)
    basis = jnp.eye(x.size, dtype=x.dtype).reshape(x.size, *x.shape)
    diffs = jax.vmap(lambda e: f(x + eps * e) - f(x - eps * e))(basis)
    return (diffs / (2 * eps)).reshape(x.shape)
