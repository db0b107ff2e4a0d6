"""Binarised images for Bernoulli likelihoods (VAE, MADE).

Training binarises dynamically: every step draws x ~ Bernoulli(pixel intensity)
afresh from the step key, so the model never sees the same binary image twice
(the usual regulariser on small data). Evaluation binarises with a fixed draw:
each image's bits come from a key that is a pure function of a constant seed and
the image's own pixels, so the binarised validation and test sets are the same for
every run, seed, batch size and device count, and NLLs of different models (VAE,
MADE) are on the same binary images. A fixed draw rather than a 0.5 threshold:
thresholded images are cleaner than the training distribution and would flatter
the NLL.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

FIXED_SEED = 0x5EED  # changing it changes every reported test NLL


def dynamic(key: jax.Array, x_BxD: jax.Array) -> jax.Array:
    """A fresh Bernoulli(x) draw of every pixel; x in [0, 1]."""
    return jax.random.bernoulli(key, x_BxD).astype(x_BxD.dtype)


def content_hash(x_BxD: jax.Array) -> jax.Array:
    """A uint32 per image from its 8-bit pixel values (wrapping arithmetic)."""
    q = jnp.round(x_BxD * 255.0).astype(jnp.uint32)
    weights = jnp.arange(x_BxD.shape[-1], dtype=jnp.uint32) * jnp.uint32(2654435761) + jnp.uint32(1)
    return jnp.sum(q * weights[None, :], axis=-1, dtype=jnp.uint32)


def fixed(x_BxD: jax.Array) -> jax.Array:
    """The evaluation binarisation: one Bernoulli(x) draw per image, keyed by its content."""
    base = jax.random.key(FIXED_SEED)
    keys = jax.vmap(lambda h: jax.random.fold_in(base, h))(content_hash(x_BxD))
    return jax.vmap(lambda k, x: jax.random.bernoulli(k, x))(keys, x_BxD).astype(x_BxD.dtype)


def flatten(images: jax.Array) -> jax.Array:
    return images.reshape(images.shape[0], -1)
