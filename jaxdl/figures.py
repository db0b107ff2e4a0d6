"""Figures of single runs, drawn from what a run writes to its workdir."""

from __future__ import annotations

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from jaxdl.train import workdir as wd

SPLIT_STYLE = {"train": "-", "validation": "--", "test": ":"}


def learning_curves(workdir: str, path: str | None = None) -> str:
    """Loss and accuracy against step for every split in WORKDIR/metrics.jsonl."""
    records = wd.read_metrics(workdir)
    if not records:
        raise ValueError(f"{workdir}/metrics.jsonl has no records yet")
    fig = Figure(figsize=(10, 4), layout="constrained")
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        for split, style in SPLIT_STYLE.items():
            points = [(r["step"], r[metric]) for r in records if r["split"] == split and metric in r]
            if points:
                steps, values = np.asarray(points).T
                ax.plot(steps, values, style, marker="o", markersize=3, label=split)
        ax.set(xlabel="step", ylabel=metric, title=metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(os.path.basename(os.path.normpath(workdir)))
    path = path or os.path.join(workdir, "learning_curves.png")
    fig.savefig(path, dpi=100)
    return path


def weight_masks(workdir: str) -> list[str]:
    """Nielsen's "weight masks": the 784-10 net's ten weight vectors as 28x28 images.

    WORKDIR/weight_masks.png for the last checkpoint, weight_masks.gif over all kept ones.
    """
    from PIL import Image

    from jaxdl.train import saved

    frames = []
    for step in saved.checkpoint_steps(workdir):
        config, _, state = saved.restore(workdir, step)
        layers = state.params["layers"]
        if len(layers) != 1:
            raise ValueError(f"weight masks need a network without hidden layers (model.hidden=()), "
                             f"e.g. `jaxdl train nielsen_weight_masks`; {workdir} has {len(layers) - 1}")
        frames.append((step, np.asarray(layers[0]["kernel"])))
    paths = []
    images = []
    for i, (step, kernel) in enumerate(frames):
        fig = Figure(figsize=(10, 4.4), layout="constrained")
        scale = float(np.abs(kernel).max())
        for digit, ax in enumerate(fig.subplots(2, 5).flat):
            ax.imshow(kernel[:, digit].reshape(28, 28), cmap="RdBu_r", vmin=-scale, vmax=scale)
            ax.set_title(str(digit))
            ax.set_axis_off()
        fig.suptitle(f"{config.experiment}: weights into each output unit, step {step} (red +, blue -)")
        if i == len(frames) - 1:
            paths.append(os.path.join(workdir, "weight_masks.png"))
            fig.savefig(paths[-1], dpi=80)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        images.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]).resize((500, 220)))
    paths.append(os.path.join(workdir, "weight_masks.gif"))
    images[0].save(paths[-1], save_all=True, append_images=images[1:], duration=400, loop=0)
    return paths
