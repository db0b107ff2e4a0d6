"""Initialisers by name: Nielsen's normal and scaled normal inits have the documented scale."""

import jax
import numpy as np

from jaxdl.models import mlp

IMAGE = (28, 28, 1)


def test_nielsen_inits_have_the_documented_scale():
    ch1 = mlp.make(IMAGE, 10, hidden=(100,), kernel_init="normal", bias_init="normal")
    ch3 = mlp.make(IMAGE, 10, hidden=(100,), kernel_init="scaled_normal", bias_init="normal")
    w1 = ch1.init(jax.random.key(0))["layers"][0]["kernel"]
    w3 = ch3.init(jax.random.key(0))["layers"][0]["kernel"]
    np.testing.assert_allclose(np.std(w1), 1.0, rtol=0.02)
    np.testing.assert_allclose(np.std(w3), 1.0 / np.sqrt(784), rtol=0.02)
    np.testing.assert_allclose(np.std(ch1.init(jax.random.key(0))["layers"][0]["bias"]), 1.0, rtol=0.2)
