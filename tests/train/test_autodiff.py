"""jaxdl.train.autodiff: hand-written gradient descent and the finite-difference gradient check."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.train import autodiff


def quadratic(x):
    # f(x) = sum(a_i x_i^2): gradient 2 a x, so one step maps x to (1 - 2 lr a) x.
    return jnp.sum(jnp.asarray([1.0, 3.0]) * x**2)


def test_gradient_descent_follows_the_closed_form():
    lr, steps = 0.1, 20
    xs, values = autodiff.gradient_descent(quadratic, jnp.asarray([1.0, -2.0]), lr, steps)
    chex.assert_shape(xs, (steps + 1, 2))
    chex.assert_shape(values, (steps + 1,))
    t = np.arange(steps + 1)[:, None]
    expected = np.asarray([1.0, -2.0]) * (1 - 2 * lr * np.asarray([1.0, 3.0])) ** t
    chex.assert_trees_all_close(xs, expected, rtol=1e-5)
    chex.assert_trees_all_close(values, jax.vmap(quadratic)(xs), rtol=1e-6)


def test_gradient_descent_diverges_past_the_stable_rate():
    # Stable iff |1 - 2 lr a| < 1 for every a: lr = 0.4 breaks it for a = 3.
    _, values = autodiff.gradient_descent(quadratic, jnp.asarray([1.0, 1.0]), 0.4, 10)
    assert values[-1] > values[0]


def test_gradient_descent_zero_steps_and_bad_steps():
    xs, values = autodiff.gradient_descent(quadratic, jnp.asarray([1.0, 1.0]), 0.1, 0)
    chex.assert_trees_all_close(xs, jnp.asarray([[1.0, 1.0]]))
    chex.assert_trees_all_close(values, jnp.asarray([4.0]))
    with pytest.raises(ValueError, match="steps must be >= 0"):
        autodiff.gradient_descent(quadratic, jnp.zeros(2), 0.1, -1)


@pytest.mark.parametrize("f", [jnp.sin, lambda x: x**3 - 2 * x, lambda x: jnp.exp(-x**2)])
def test_finite_differences_agree_with_jax_grad_on_scalars(f):
    for x in (-1.3, 0.2, 2.0):
        fd = autodiff.finite_difference_grad(f, jnp.asarray(x))
        chex.assert_trees_all_close(fd, jax.grad(f)(jnp.asarray(x)), atol=2e-3)


def test_finite_differences_agree_with_jax_grad_on_a_matrix():
    w = jax.random.normal(jax.random.key(0), (3, 2))
    f = lambda w: jnp.sum(jnp.tanh(w @ jnp.asarray([0.5, -1.0])) ** 2)  # noqa: E731
    fd = autodiff.finite_difference_grad(f, w)
    chex.assert_shape(fd, (3, 2))
    chex.assert_trees_all_close(fd, jax.grad(f)(w), atol=2e-3)
