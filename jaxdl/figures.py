"""Figures of single runs, drawn from what a run writes to its workdir."""

from __future__ import annotations

import os

import numpy as np
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
