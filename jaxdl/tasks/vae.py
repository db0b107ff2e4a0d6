"""Variational autoencoding of binarised images: the negative ELBO, with an IWAE NLL at evaluation.

Reads `model` (name "vae", hidden, latent_dim, activation) and `vae` (iwae_samples,
iwae_chunk). Training binarises each batch dynamically with the step key; evaluation
uses the fixed binarisation of `jaxdl.tasks.binary`. Metrics are nats per image.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from jaxdl import data
from jaxdl.models import model_factory, vae as vae_lib
from jaxdl.tasks import binary
from jaxdl.tasks.base import Task


def build(config: ml_collections.ConfigDict) -> vae_lib.VAEFunctions:
    factory = model_factory("vae", config.model.name)
    spec = data.get_spec(config.data.name)
    if not spec.image_shape:
        raise ValueError(f"the vae task needs an image dataset; {spec.name!r} is not one")
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    return factory(spec.image_shape, **hparams)


def make(config: ml_collections.ConfigDict) -> Task:
    vae = build(config)
    samples, chunk = int(config.vae.iwae_samples), min(int(config.vae.iwae_chunk), int(config.vae.iwae_samples))

    def loss(params, batch, *, key, train=True):
        del train  # no dropout; the key drives binarisation and z
        if key is None:
            raise ValueError("the vae loss needs a key (binarisation and the reparameterised sample)")
        k_bin, k_z = jax.random.split(key)
        x_BxD = binary.dynamic(k_bin, binary.flatten(batch["image"]))
        total, reconstruction, kl = vae_lib.negative_elbo(vae, params, x_BxD, k_z)
        return total.mean(), {"reconstruction": reconstruction.mean(), "kl": kl.mean()}

    def eval_sums(params, batch, mask_B, *, key):
        x_BxD = binary.fixed(binary.flatten(batch["image"]))
        out = vae_lib.importance_weighted(vae, params, x_BxD, key, num_samples=samples, chunk=chunk)
        return {
            "loss": jnp.sum(-out["elbo"] * mask_B),
            "reconstruction": jnp.sum(out["reconstruction"] * mask_B),
            "kl": jnp.sum(out["kl"] * mask_B),
            "nll_iwae": jnp.sum(-out["iwae"] * mask_B),
            "count": jnp.sum(mask_B),
        }

    def headline(m) -> str:
        return (f"-ELBO {float(m['loss']):.2f} (reconstruction {float(m['reconstruction']):.2f} + "
                f"KL {float(m['kl']):.2f}), IWAE NLL {float(m['nll_iwae']):.2f} nats (k={samples})")

    return Task(model=vae.model, loss=loss, eval_sums=eval_sums, monitor="loss", monitor_mode="min",
                headline=headline)
