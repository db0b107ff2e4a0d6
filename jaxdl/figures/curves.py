"""Learning curves of a run, drawn from its WORKDIR/metrics.jsonl."""

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
    for ax, metric in zip(fig.subplots(1, 2), ("loss", _second_metric(records))):
        for colour, (split, style) in enumerate(SPLIT_STYLE.items()):
            points = [(r["step"], r[metric]) for r in records if r["split"] == split and metric in r]
            if points:
                steps, values = np.asarray(points).T
                ax.plot(steps, values, style, marker="o", markersize=3, label=split, color=f"C{colour}")
        ax.set(xlabel="step", ylabel=metric, title=metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(os.path.basename(os.path.normpath(workdir)))
    path = path or os.path.join(workdir, "learning_curves.png")
    fig.savefig(path, dpi=100)
    return path


def _second_metric(records: list[dict]) -> str:
    """Accuracy for classifiers, else the first other metric the evaluations report (e.g. an NLL)."""
    evals = [k for r in records if r["split"] in ("validation", "test") for k in r]  # not the "model" row
    if "accuracy" in evals:
        return "accuracy"
    skip = {"step", "epoch", "split", "time", "loss", "count", "correct"}
    return next((k for k in evals if k not in skip), "accuracy")
