# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Autodiff basics: `jax.grad` on small functions, gradient descent by hand
#
# `jax.grad(f)` is a function that returns df/dx; we check it against central finite
# differences (`jaxdl.train.autodiff.finite_difference_grad`), then minimise functions with the
# update rule `x <- x - eta * grad f(x)` written out (`jaxdl.train.autodiff.gradient_descent`).

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
STEPS = 30 if SMALL else 200

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from jaxdl.train import autodiff
# %% [markdown]
# ## Derivatives of one-variable functions

# %%
functions = {"sin(x)": jnp.sin, "x^3 - 2x": lambda x: x**3 - 2 * x, "exp(-x^2)": lambda x: jnp.exp(-x**2),
             "relu(x)": jax.nn.relu}
xs = jnp.linspace(-2.5, 2.5, 201)
fig, axes = plt.subplots(1, len(functions), figsize=(14, 3))
for ax, (name, f) in zip(axes, functions.items()):
    ax.plot(xs, jax.vmap(f)(xs), label=name)
    ax.plot(xs, jax.vmap(jax.grad(f))(xs), "--", label="jax.grad")
    ax.set_title(name)
    ax.legend(fontsize=8)
plt.show()
for name, f in functions.items():
    x = jnp.asarray(0.7)
    print(f"{name:10s} grad at 0.7: jax.grad {float(jax.grad(f)(x)):+.5f}, "
          f"finite differences {float(autodiff.finite_difference_grad(f, x)):+.5f}")

# %% [markdown]
# ## Gradients of many variables, and the second derivative

# %%
w = jax.random.normal(jax.random.key(0), (3,))
loss = lambda w: jnp.sum(jnp.tanh(w) ** 2) + w[0] * w[1]  # noqa: E731
print("grad   ", jax.grad(loss)(w))
print("finite ", autodiff.finite_difference_grad(loss, w))
print("hessian\n", jax.hessian(loss)(w))

# %% [markdown]
# ## Gradient descent by hand on a narrow valley
# f(x, y) = x^2 + 10 y^2: too large a rate oscillates across the valley, too small crawls.

# %%
valley = lambda p: p[0] ** 2 + 10 * p[1] ** 2  # noqa: E731
gx, gy = np.meshgrid(np.linspace(-3, 3, 100), np.linspace(-1.5, 1.5, 100))
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax.contour(gx, gy, gx**2 + 10 * gy**2, levels=20, cmap="Greys")
for eta in (0.01, 0.05, 0.095):
    path, values = autodiff.gradient_descent(valley, jnp.asarray([-2.8, 1.2]), eta, STEPS)
    ax.plot(path[:, 0], path[:, 1], marker=".", label=f"eta={eta}")
    ax2.semilogy(values, label=f"eta={eta}")
ax.legend()
ax2.set(xlabel="step", ylabel="f")
ax2.legend()
plt.show()

# %% [markdown]
# ## Linear regression by gradient descent
# Fit y = a x + b to noisy points; the minimiser is also given by least squares.

# %%
key_x, key_n = jax.random.split(jax.random.key(1))
x = jax.random.uniform(key_x, (50,), minval=-1, maxval=1)
y = 2.0 * x - 0.5 + 0.1 * jax.random.normal(key_n, (50,))
mse = lambda ab: jnp.mean((ab[0] * x + ab[1] - y) ** 2)  # noqa: E731
path, values = autodiff.gradient_descent(mse, jnp.zeros(2), 0.5, STEPS)
exact = np.linalg.lstsq(np.stack([np.asarray(x), np.ones(50)], 1), np.asarray(y), rcond=None)[0]
print("gradient descent (a, b):", np.asarray(path[-1]), " least squares:", exact)
plt.scatter(x, y, s=10)
plt.plot(np.sort(x), path[-1][0] * np.sort(x) + path[-1][1], "r")
plt.show()
