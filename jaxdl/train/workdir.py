"""What every run leaves in WORKDIR: config.json and metrics.jsonl."""

from __future__ import annotations

import json
import os
import time
from typing import Mapping

import ml_collections


class RunExistsError(FileExistsError):
    pass


def prepare(workdir: str, config: ml_collections.ConfigDict, *, overwrite: bool = False) -> None:
    """Creates `workdir` and writes config.json; never clobbers an earlier run silently."""
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    if os.path.exists(metrics_path) and not overwrite:
        raise RunExistsError(
            f"{workdir} already holds a run ({metrics_path}); choose another --workdir "
            "or pass --overwrite to replace it"
        )
    os.makedirs(workdir, exist_ok=True)
    if os.path.exists(metrics_path):
        os.remove(metrics_path)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        f.write(config.to_json(indent=2, sort_keys=True) + "\n")


class MetricsWriter:
    """Appends one JSON object per evaluation: step, epoch, split and metric values."""

    def __init__(self, workdir: str):
        self.path = os.path.join(workdir, "metrics.jsonl")

    def write(self, *, step: int, epoch: int, split: str, metrics: Mapping[str, float]) -> dict:
        record = {"step": int(step), "epoch": int(epoch), "split": split, "time": time.time()}
        record.update({k: float(v) for k, v in metrics.items()})
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        return record


def read_metrics(workdir: str) -> list[dict]:
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]
