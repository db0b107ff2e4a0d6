"""Binarised images: the fixed draw depends on the image only, the dynamic one on the key."""

import chex
import jax
import numpy as np

from jaxdl.tasks import binary


def test_fixed_binarisation_depends_on_the_image_only_and_dynamic_on_the_key():
    x = jax.random.uniform(jax.random.key(0), (64, 784))
    bits = binary.fixed(x)
    assert set(np.unique(np.asarray(bits))) == {0.0, 1.0}
    # Same image, any batch position or batch size: the same bits.
    chex.assert_trees_all_equal(binary.fixed(x[::-1])[::-1], bits)
    chex.assert_trees_all_equal(binary.fixed(x[10:11]), bits[10:11])
    # Bernoulli(x): the fraction of ones tracks the intensity.
    np.testing.assert_allclose(bits.mean(), x.mean(), atol=0.01)
    a, b = binary.dynamic(jax.random.key(1), x), binary.dynamic(jax.random.key(2), x)
    assert not np.array_equal(a, b)
    np.testing.assert_allclose(a.mean(), x.mean(), atol=0.01)
