"""A sweep's results: one row per member, its learning curves, and the files they are written to."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from typing import Any

import numpy as np

from jaxdl import tasks


@dataclasses.dataclass
class SweepResult:
    rows: list[dict[str, Any]]  # one per member: seed, swept values, final/best metrics, diverged
    curves: list[dict[str, Any]]  # one per member, epoch and split
    swept: list[str]  # the grid's keys (seed is always a column)
    seconds: float
    member_steps: int  # train steps summed over members
    params: Any = None  # with keep_params: final params stacked over members (rows' order), on host
    monitor: str = "accuracy"  # the task's headline metric (what the plots show)
    preempted: bool = False  # stopped by SIGTERM (rows: the chunks finished); continue with resume=True

    def column(self, name: str) -> np.ndarray:
        return np.asarray([r[name] for r in self.rows])


def best_member(rows: list[dict], task: tasks.Task) -> dict | None:
    """The member with the best final validation (else train) monitor, diverged ones and (halving)
    those stopped at a rung left out."""
    sign = 1.0 if task.monitor_mode == "max" else -1.0
    fallback = -math.inf

    def score(r):
        value = r.get(f"final_validation_{task.monitor}", r.get(f"final_train_{task.monitor}"))
        return fallback if value is None or not np.isfinite(value) else sign * value

    finished = (r for r in rows if not r["diverged"] and r.get("stopped_reason", "finished") == "finished")
    return max(finished, key=score, default=None)


def summarize(member: dict, batch_size: int, history: list[dict], diverged: bool, task: tasks.Task):
    """A member's results row (final and best-epoch metrics) and its curve rows from its eval history."""
    row = {**member, "batch_size": batch_size, "diverged": bool(diverged)}
    curves = []
    for record in history:
        for split in ("train", "validation", "test"):
            if split in record:
                curves.append({"member": member["member"], "epoch": record["epoch"], "step": record["step"],
                               "split": split, **record[split]})
    for split, metrics in history[-1].items():
        if isinstance(metrics, dict):
            row.update({f"final_{split}_{k}": v for k, v in metrics.items()})
    sign = 1.0 if task.monitor_mode == "max" else -1.0
    val = [(r["validation"][task.monitor], r["epoch"]) for r in history if "validation" in r]
    finite = [(a, e) for a, e in val if np.isfinite(a)]
    if val:
        best = max(finite, key=lambda ae: (sign * ae[0], ae[1])) if finite else (float("nan"), 0)
        row[f"best_validation_{task.monitor}"], row["best_epoch"] = best[0], best[1]
        # The selected state's own test metrics (never a test number from another epoch).
        at_best = next((r for r in history if r["epoch"] == best[1] and "test" in r), None)
        if at_best is not None:
            row.update({f"best_epoch_test_{k}": v for k, v in at_best["test"].items()})
    return row, curves


def write(result: SweepResult, workdir: str) -> None:
    """results.jsonl, curves.jsonl, results.csv and the sweep's plots, into `workdir`."""
    with open(os.path.join(workdir, "results.jsonl"), "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in result.rows)
    with open(os.path.join(workdir, "curves.jsonl"), "w") as f:
        f.writelines(json.dumps(c) + "\n" for c in result.curves)
    columns = list(dict.fromkeys(k for r in result.rows for k in r))
    with open(os.path.join(workdir, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(result.rows)
    from jaxdl.figures import sweep as plots
    plots.write_all(result.rows, result.curves, result.swept, workdir, monitor=result.monitor)


def format_finals(row: dict, monitor: str) -> str:
    """A row's final `monitor` values, one per split."""
    return " ".join(f"{k.removeprefix('final_')} {v:.4f}" for k, v in row.items()
                    if k.startswith("final_") and k.endswith(monitor))
