"""Nielsen's figures of a run's checkpoints: weight masks and a 3-unit hidden layer's latent space."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import matplotlib
import numpy as np
from matplotlib import animation, patheffects
from matplotlib.figure import Figure

from jaxdl import data
from jaxdl.models import inits
from jaxdl.runs import saved
from jaxdl.train import workdir as wd

PNG_DPI = 80
GIF_DPI = 60  # GIFs are one full image per checkpoint: keep them small


def weight_masks(workdir: str) -> list[str]:
    """Nielsen's "weight masks": a 784-10 net's ten weight vectors as 28x28 images.

    Writes WORKDIR/weight_masks.png (last checkpoint) and weight_masks.gif (one frame per
    kept checkpoint); returns their paths.
    """
    config = saved.load_config(workdir)
    if config.model.name != "mlp" or tuple(config.model.hidden):
        raise ValueError(f"weight masks need a net without hidden layers (784-10), but {workdir} trained "
                         f"{config.model.name} with hidden={tuple(config.model.get('hidden', ()))}; "
                         f"run `jaxdl train nielsen_weight_masks` first")
    shape = data.get_spec(config.data.name).image_shape[:2]

    def draw(fig: Figure, frame: tuple[int, int | None, Any]) -> None:
        step, epoch, params = frame
        kernel = np.asarray(params["layers"][0]["kernel"])
        scale = float(np.abs(kernel).max())  # symmetric, so white is exactly 0
        axes = fig.subplots(2, 5, gridspec_kw=dict(left=0.01, right=0.9, bottom=0.02, top=0.86, wspace=0.05))
        for k, ax in enumerate(axes.flat):
            image = ax.imshow(kernel[:, k].reshape(shape), cmap="RdBu_r", vmin=-scale, vmax=scale)
            ax.set_title(str(k))
            ax.set_axis_off()
        fig.colorbar(image, cax=fig.add_axes((0.92, 0.1, 0.015, 0.7)), label="weight")
        fig.suptitle(f"{config.experiment} ({config.loss.name}, {config.loss.output}): weights into each "
                     f"output unit, {_when(step, epoch)} (red +, blue -)")

    return _animate(workdir, "weight_masks", _snapshots(workdir), draw, figsize=(10, 4.2))


def latent3(workdir: str) -> list[str]:
    """The test digits in a net's 3-unit last hidden layer, a 3-D scatter coloured by digit.

    Writes WORKDIR/latent3.png (last checkpoint), latent3.gif (one frame per kept checkpoint)
    and latent3.json: per checkpoint the digit centroids and `ratio_4_9`, the distance between
    the 4 and 9 centroids over the mean distance between all pairs of centroids (below 1: 4s
    and 9s sit closer together than digits do on average). Returns the three paths.
    """
    config = saved.load_config(workdir)
    hidden = tuple(config.model.get("hidden", ()))
    if config.model.name != "mlp" or not hidden or hidden[-1] != 3:
        raise ValueError(f"latent3 needs an MLP whose last hidden layer has 3 units, but {workdir} trained "
                         f"{config.model.name} with hidden={hidden}; run `jaxdl train nielsen_latent3` first")
    test = data.load_arrays(config.data.name, "test", data_dir=config.data.data_dir or None)
    x_NxD = test["image"].reshape(len(test["image"]), -1)
    labels_N = test["label"]
    act = inits.activation(config.model.activation)
    classes = range(data.get_spec(config.data.name).num_classes)
    frames = []
    for step, epoch, params in _snapshots(workdir):
        h, layers = jnp.asarray(x_NxD), params["layers"]  # layers: {0: {"kernel", "bias"}, 1: ...}
        for i in range(len(layers) - 1):  # the MLP's forward pass up to the logits
            h = act(h @ layers[i]["kernel"] + layers[i]["bias"][None, :])
        z_Nx3 = np.asarray(h)
        centroids = np.stack([z_Nx3[labels_N == c].mean(0) for c in classes])
        dist = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)
        ratio = float(dist[4, 9] / dist[np.triu_indices(len(dist), 1)].mean())
        frames.append((step, epoch, z_Nx3, centroids, ratio))
    points = np.concatenate([f[2] for f in frames])
    lo, hi = points.min(0), points.max(0)  # one box for all frames, so the GIF does not jump
    colours = matplotlib.colormaps["tab10"]

    def draw(fig: Figure, frame: tuple[int, int | None, np.ndarray, np.ndarray, float]) -> None:
        step, epoch, z_Nx3, centroids, ratio = frame
        ax = fig.add_axes((-0.04, -0.04, 0.92, 0.96), projection="3d")
        ax.set_box_aspect(None, zoom=0.9)  # room for the axis labels
        for c in classes:
            ax.scatter(*z_Nx3[labels_N == c].T, s=6, alpha=0.5, color=colours(c), label=str(c))
            ax.text(*centroids[c], str(c), fontsize=15, fontweight="bold", color=colours(c),
                    path_effects=[patheffects.withStroke(linewidth=3, foreground="white")])
        ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), zlim=(lo[2], hi[2]),
               xlabel="unit 1", ylabel="unit 2", zlabel="unit 3")
        fig.legend(title="digit", loc="center right", markerscale=3)
        fig.suptitle(f"{config.experiment}: 3-unit layer on {len(labels_N)} test images, {_when(step, epoch)}\n"
                     f"d(4, 9) / mean centroid distance = {ratio:.2f} (digits at their centroids)")

    paths = _animate(workdir, "latent3", frames, draw, figsize=(7.5, 6))
    summary = {
        "experiment": config.experiment,
        "split": "test",
        "ratio_4_9": "distance between the 4 and 9 centroids / mean distance between all pairs of centroids",
        "checkpoints": [{"step": step, "epoch": epoch, "ratio_4_9": ratio, "centroids": centroids.tolist()}
                        for step, epoch, _, centroids, ratio in frames],
    }
    paths.append(os.path.join(workdir, "latent3.json"))
    with open(paths[-1], "w") as f:
        json.dump(summary, f, indent=1)
    return paths


def latent3_report(workdir: str) -> list[str]:
    """`latent3`'s paths and one line: d(4, 9) over the mean centroid distance at every checkpoint."""
    paths = latent3(workdir)
    with open(paths[-1]) as f:
        ckpts = json.load(f)["checkpoints"]
    when = [_when(c["step"], c["epoch"]) for c in ckpts]
    return [*paths, f"d(4, 9) / mean distance between digit centroids, {when[0]} .. {when[-1]}: "
            + " ".join(f"{c['ratio_4_9']:.2f}" for c in ckpts)]


def _snapshots(workdir: str) -> list[tuple[int, int | None, Any]]:
    """(step, epoch, params) for every kept checkpoint, oldest first; epoch is None for a
    checkpoint that did not fall on an epoch's end (train.checkpoint_every_steps > 0)."""
    epochs = {r["step"]: r["epoch"] for r in wd.read_metrics(workdir) if r["split"] == "train"}
    return [(step, epochs.get(step), saved.restore_params(workdir, step)[2])
            for step in saved.checkpoint_steps(workdir)]


def _when(step: int, epoch: int | None) -> str:
    return f"step {step}" if epoch is None else f"epoch {epoch}"


def _animate(workdir: str, stem: str, frames: Sequence, draw: Callable[[Figure, Any], None],
             figsize: tuple[float, float]) -> list[str]:
    """draw(fig, frame) for every frame into WORKDIR/STEM.gif, the last also into STEM.png."""
    fig = Figure(figsize=figsize)  # placed by hand: constrained layout triples the drawing time
    gif = os.path.join(workdir, f"{stem}.gif")
    writer = animation.PillowWriter(fps=2)
    with writer.saving(fig, gif, dpi=GIF_DPI):
        for frame in frames:
            fig.clear()
            draw(fig, frame)
            writer.grab_frame()
    png = os.path.join(workdir, f"{stem}.png")
    fig.savefig(png, dpi=PNG_DPI)
    return [png, gif]
