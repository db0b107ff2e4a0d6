"""Figures of trained generative models (vae_mnist, made_mnist), drawn from a run's workdir.

Each loads the state kept by `train.keep_best` when there is one (else the latest
checkpoint), draws with a fixed key (the same figure every time) and writes
WORKDIR/<figure>.png of FIGSIZE * DPI pixels. Images are Bernoulli means
(pixel probabilities), not binary draws, except MADE samples, which are
binary by construction (each pixel is sampled before it conditions the next).
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from jaxdl import data
from jaxdl.models import made as made_lib
from jaxdl.runs import saved
from jaxdl.tasks import binary, made as made_task, vae as vae_task
from jaxdl.train import checkpoint

DPI = 100
GRID_FIGSIZE = (4.0, 4.4)  # a 10x10 grid of digits plus a title
FIGURE_KEY = 2024  # the draws of every figure


def _restore(workdir: str, task: str, figure: str):
    config = saved.load_config(workdir)
    if config.task != task:
        raise ValueError(f"--figure {figure} needs a run of the {task} task (e.g. `jaxdl train {task}_mnist`), "
                         f"but {workdir} trained the {config.task} task")
    best = checkpoint.has_checkpoint(os.path.join(workdir, "best"))
    return saved.restore_params(workdir, best=best)


def _mosaic(images_NxHxW: np.ndarray, cols: int, pad: int = 2) -> np.ndarray:
    """Images in a grid, `pad` pixels of background (0, no ink) between them."""
    n, h, w = images_NxHxW.shape
    rows = -(-n // cols)
    out = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad), np.float32)
    for i, image in enumerate(images_NxHxW):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = image
    return out


def _save_grid(path: str, mosaic: np.ndarray, title: str, figsize=GRID_FIGSIZE) -> str:
    fig = Figure(figsize=figsize)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.96 * figsize[0] / figsize[1]))
    ax.imshow(1.0 - mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")  # ink dark on white
    ax.set_axis_off()
    fig.suptitle(title, fontsize=9, y=0.985)
    fig.savefig(path, dpi=DPI)
    return path


def _test_images(config) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    test = data.load_arrays(config.data.name, "test", data_dir=config.data.data_dir or None)
    return test["image"], test["label"], data.get_spec(config.data.name).image_shape[:2]


def vae_reconstructions(workdir: str, n: int = 50) -> str:
    """Test images (fixed binarisation, odd rows) above their reconstructions at the posterior mean."""
    config, _, params = _restore(workdir, "vae", "vae_reconstructions")
    vae = vae_task.build(config)
    images, _, shape = _test_images(config)
    x = binary.fixed(binary.flatten(jnp.asarray(images[:n])))
    recon = jax.nn.sigmoid(vae.decode(params, vae.encode(params, x)[0]))
    pairs = np.stack([np.asarray(x).reshape(-1, 10, *shape), np.asarray(recon).reshape(-1, 10, *shape)], axis=1)
    return _save_grid(os.path.join(workdir, "vae_reconstructions.png"), _mosaic(pairs.reshape(-1, *shape), 10),
                      f"{config.data.name} test images (odd rows), reconstructions (even)")


def vae_samples(workdir: str, n: int = 100) -> str:
    """Decoder means of z ~ N(0, I)."""
    config, _, params = _restore(workdir, "vae", "vae_samples")
    vae = vae_task.build(config)
    shape = data.get_spec(config.data.name).image_shape[:2]
    z = jax.random.normal(jax.random.key(FIGURE_KEY), (n, vae.latent_dim))
    means = np.asarray(jax.nn.sigmoid(vae.decode(params, z))).reshape(n, *shape)
    return _save_grid(os.path.join(workdir, "vae_samples.png"), _mosaic(means, 10),
                      f"VAE samples from the prior (latent dim {vae.latent_dim}), pixel means")


def _two_d(config, vae, figure: str) -> None:
    if vae.latent_dim != 2:
        raise ValueError(f"--figure {figure} needs a 2-D latent space; this run has model.latent_dim="
                         f"{vae.latent_dim} (train with --set model.latent_dim=2)")


def vae_manifold(workdir: str, n: int = 20) -> str:
    """Decoder means over an n x n grid of z at the prior's quantiles 0.05..0.95 (2-D latent only)."""
    config, _, params = _restore(workdir, "vae", "vae_manifold")
    vae = vae_task.build(config)
    _two_d(config, vae, "vae_manifold")
    shape = data.get_spec(config.data.name).image_shape[:2]
    q = jax.scipy.special.ndtri(jnp.linspace(0.05, 0.95, n))  # equal prior mass between grid lines
    z1, z2 = jnp.meshgrid(q, q[::-1])  # z2 grows upwards
    z = jnp.stack([z1.ravel(), z2.ravel()], axis=-1)
    means = np.asarray(jax.nn.sigmoid(vae.decode(params, z))).reshape(n * n, *shape)
    return _save_grid(os.path.join(workdir, "vae_manifold.png"), _mosaic(means, n, pad=0),
                      "VAE manifold: z at prior quantiles 0.05..0.95", figsize=(5.0, 5.4))


def vae_latents(workdir: str) -> str:
    """Posterior means of the test set in a 2-D latent space, coloured by label."""
    config, _, params = _restore(workdir, "vae", "vae_latents")
    vae = vae_task.build(config)
    _two_d(config, vae, "vae_latents")
    images, labels, _ = _test_images(config)
    mean = np.asarray(vae.encode(params, binary.fixed(binary.flatten(jnp.asarray(images))))[0])
    fig = Figure(figsize=(6.0, 5.0), layout="constrained")
    ax = fig.subplots()
    colours = matplotlib.colormaps["tab10"]
    for c in np.unique(labels):
        ax.scatter(*mean[labels == c].T, s=4, alpha=0.6, color=colours(int(c) % 10), label=str(c))
    ax.set(xlabel="z1", ylabel="z2", title=f"{config.data.name} test set: posterior means E[z|x]")
    ax.legend(title="label", markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5))
    path = os.path.join(workdir, "vae_latents.png")
    fig.savefig(path, dpi=DPI)
    return path


def made_samples(workdir: str, n: int = 100) -> str:
    """Binary samples of mask set 0, drawn pixel by pixel in its ordering (a jitted scan)."""
    config, model, params = _restore(workdir, "made", "made_samples")
    made = made_task.build(config)
    shape = data.get_spec(config.data.name).image_shape[:2]
    draw = jax.jit(lambda params, key: made_lib.sample(model, params, made.masks(0), key, n))
    x = np.asarray(draw(params, jax.random.key(FIGURE_KEY))).reshape(n, *shape)
    return _save_grid(os.path.join(workdir, "made_samples.png"), _mosaic(x, 10),
                      f"MADE samples (mask set 0, {config.model.ordering} ordering)")


FIGURES = {
    "vae_reconstructions": vae_reconstructions,
    "vae_samples": vae_samples,
    "vae_manifold": vae_manifold,
    "vae_latents": vae_latents,
    "made_samples": made_samples,
}
