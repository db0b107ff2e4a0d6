"""Train one experiment under several named override sets, one run each; one table of the results.

Each variant is a `jaxdl train` run in WORKDIR/LABEL (its metrics.jsonl, best/ as usual); the
table reports the final and, with `train.keep_best`, the best-validation evaluations. Over
several seeds (`run_seeds`) the runs go to WORKDIR/seedS/LABEL and `seed_table` gives each
split's mean +- sd over seeds, every value the selected state's own. Comparisons
`by="runs"` (`jaxdl compare mf_optimizers`, or `jaxdl compare EXPERIMENT --variant LABEL:KEY=V`)
and the split-seed tables train through it.
"""

from __future__ import annotations

import os
import time

import numpy as np

from jaxdl import config as config_lib, experiments


class Preempted(Exception):
    """A run of the study stopped on SIGTERM with its checkpoint saved (the argument: its workdir):
    the study stops there, and `resume=True` continues it."""


def run(experiment: str, variants: dict[str, list[str]], workdir: str, overrides: list[str] = (),
        overwrite: bool = False, resume: bool = False) -> list[dict]:
    """Trains `experiment` + `overrides` + each variant's overrides; returns one row per variant.
    With `resume`, a finished run is read back from its checkpoint and an interrupted one continues."""
    from jaxdl.train import loop

    rows = []
    for label, variant in variants.items():
        config = config_lib.apply_overrides(experiments.get_config(experiment), [*overrides, *variant])
        start = time.perf_counter()
        path = os.path.join(workdir, label)
        result = loop.train(config, path, overwrite=overwrite, resume=resume, live=False)
        if result.preempted:
            raise Preempted(path)
        row = {"label": label, "overrides": " ".join(variant), "seed": int(config.seed),
               "seconds": time.perf_counter() - start, "final": result.final}
        if result.best is not None:
            row["best_epoch"], row["best"] = result.best["epoch"], result.best["evals"]
        rows.append(row)
    return rows


def preempted_message(name: str, stopped: Preempted, workdir: str) -> str:
    """What a study or comparison stopped by SIGTERM prints."""
    return (f"{name}: preempted in {stopped}, its checkpoint saved; the finished runs stay in {workdir}; "
            f"continue with --resume --workdir {workdir}")


def table(rows: list[dict], metric: str) -> str:
    """A markdown table of `metric` per split, every split at the best-validation epoch when there is one
    (the selected state's own test score, never a test number from another epoch); one run, one seed, per row."""
    splits = [s for s in rows[0].get("best", rows[0]["final"]) if s != "train"]
    lines = [f"| variant | {' | '.join(f'{s} {metric}' for s in splits)} | best epoch | seed | wall s | overrides |",
             "|---" * (len(splits) + 5) + "|"]
    for r in rows:
        evals = r.get("best", r["final"])
        cells = " | ".join(f"{evals[s][metric]:.4f}" for s in splits)
        lines.append(f"| {r['label']} | {cells} | {r.get('best_epoch', '-')} | {r.get('seed', '-')} | "
                     f"{r['seconds']:.0f} | `{r['overrides']}` |")
    return "\n".join(lines)


def run_seeds(experiment: str, variants: dict[str, list[str]], workdir: str, overrides: list[str] = (),
              seeds: int = 3, overwrite: bool = False, resume: bool = False) -> list[dict]:
    """`run` with seeds 0..seeds-1 (WORKDIR/seedS/LABEL); one row per variant holding each seed's row."""
    per_seed = [run(experiment, variants, os.path.join(workdir, f"seed{s}"), [*overrides, f"seed={s}"], overwrite,
                    resume) for s in range(seeds)]
    return [{"label": label, "overrides": " ".join(variants[label]), "runs": [rows[i] for rows in per_seed]}
            for i, label in enumerate(variants)]


def seed_table(rows: list[dict], metric: str) -> str:
    """Markdown: per variant, `metric` mean +- sd over seeds on each split (at each run's best-validation
    epoch when it keeps one), and every seed's test value."""
    first = rows[0]["runs"][0]
    splits = [s for s in first.get("best", first["final"]) if s != "train"]
    lines = [f"| variant | {' | '.join(f'{s} {metric}' for s in splits)} | per seed ({splits[-1]}) | seeds | "
             "best epochs | overrides |", "|---" * (len(splits) + 5) + "|"]
    for r in rows:
        values = {s: [run.get("best", run["final"])[s][metric] for run in r["runs"]] for s in splits}
        cells = " | ".join(f"{np.mean(v):.4f} ± {np.std(v):.4f}" for v in values.values())
        each = " / ".join(f"{v:.4f}" for v in values[splits[-1]])
        epochs = " / ".join(str(run.get("best_epoch", "-")) for run in r["runs"])
        lines.append(f"| {r['label']} | {cells} | {each} | {len(r['runs'])} | {epochs} | `{r['overrides']}` |")
    return "\n".join(lines)
