"""Initialisers by name: Nielsen's normal and scaled normal inits have the documented scale."""

import jax
import numpy as np

from jaxdl.models import inits, mlp

IMAGE = (28, 28, 1)


def test_nielsen_inits_have_the_documented_scale():
    ch1 = mlp.make(IMAGE, 10, hidden=(100,), kernel_init="normal", bias_init="normal")
    ch3 = mlp.make(IMAGE, 10, hidden=(100,), kernel_init="scaled_normal", bias_init="normal")
    w1 = ch1.init(jax.random.key(0))["layers"][0]["kernel"]
    w3 = ch3.init(jax.random.key(0))["layers"][0]["kernel"]
    np.testing.assert_allclose(np.std(w1), 1.0, rtol=0.02)
    np.testing.assert_allclose(np.std(w3), 1.0 / np.sqrt(784), rtol=0.02)
    np.testing.assert_allclose(np.std(ch1.init(jax.random.key(0))["layers"][0]["bias"]), 1.0, rtol=0.2)


def test_torch_default_is_pytorch_linears_uniform_init():
    # nn.Linear: kaiming_uniform(a=sqrt(5)) kernels = U(+-1/sqrt(fan_in)); biases from the same bound.
    fan_in = 400
    w = np.asarray(inits.kernel_init("torch_default")(jax.random.key(0), (fan_in, 300)))
    b = np.asarray(inits.torch_default_bias(fan_in)(jax.random.key(1), (20_000,)))
    bound = 1.0 / np.sqrt(fan_in)
    for values in (w, b):
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
        np.testing.assert_allclose(values.var(), bound**2 / 3, rtol=0.03)  # the uniform's variance
