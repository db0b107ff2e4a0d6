"""`jaxdl ensemble`: train an experiment over seeds (optionally) and score the equal-weight ensemble."""

from __future__ import annotations

import os
from collections.abc import Sequence

from jaxdl.runs import ensemble
from jaxdl.studies import variants


def train_seeds(experiment: str, seeds: int, workdir: str, overrides: Sequence[str] = (),
                overwrite: bool = False) -> list[str]:
    """Trains `experiment` with seeds 0..seeds-1 into WORKDIR/seedS; returns those folders."""
    named = {f"seed{s}": [f"seed={s}"] for s in range(seeds)}
    variants.run(experiment, named, workdir, list(overrides), overwrite)
    return [os.path.join(workdir, name) for name in named]


def report(workdirs: Sequence[str] = (), *, train: str | None = None, seeds: int = 5, workdir: str | None = None,
           overrides: Sequence[str] = (), overwrite: bool = False,
           splits: Sequence[str] = ("validation", "test")) -> str:
    """The ensemble of the runs in `workdirs` (plus, with `train`, `seeds` new runs of that experiment)."""
    workdirs = list(workdirs)
    if train:
        workdirs += train_seeds(train, seeds, workdir or os.path.join("runs", "ensembles", train), overrides,
                                overwrite)
    elif overrides or workdir:
        raise ValueError("--set and --workdir go with --train EXPERIMENT")
    if len(workdirs) < 2:
        raise ValueError(f"an ensemble needs at least 2 runs, got {len(workdirs)}; name RUN folders or --train")
    lines = []
    for split, r in ensemble.evaluate(workdirs, splits).items():
        metric = "accuracy" if "accuracy" in r else "rmse"
        members = ", ".join(f"{m[metric]:.4f}" for m in r["members"])
        lines.append(f"ensemble of {len(workdirs)} {split}: {metric} {r[metric]:.4f}"
                     + (f" mae {r['mae']:.4f}" if metric == "rmse" else f" ({r['correct']} / {r['count']})")
                     + f"; members {members}")
    return "\n".join(lines)
