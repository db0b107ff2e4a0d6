"""What every run leaves in WORKDIR: config.json, metrics.jsonl and tensorboard/ event files."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from types import ModuleType

import ml_collections


def _import_tensorboardx() -> ModuleType:
    """tensorboardX without PyTorch. Its writer imports torch, when installed, only to name a
    type in annotations: 0.85 s of every run's start in an environment that has torch. While
    torch is not imported yet, that import fails for the moment (tensorboardX then annotates
    with numpy arrays) and is possible again right after."""
    if "torch" in sys.modules or "tensorboardX" in sys.modules:
        import tensorboardX

        return tensorboardX
    sys.modules["torch"] = None  # `import torch` raises ImportError while this is set
    try:
        import tensorboardX
    finally:
        del sys.modules["torch"]
    return tensorboardX


tensorboardX = _import_tensorboardx()


class RunExistsError(FileExistsError):
    pass


def default_workdir(*parts: str) -> str:
    """runs/PARTS.../YYYYmmdd-HHMMSS: where a command's output goes when no --workdir is given.

    A study file's experiment ("/path/to/study.py:fn") contributes its stem ("study_fn").
    """
    names = [os.path.basename(p).replace(".py:", "_").removesuffix(".py") for p in parts]
    return os.path.join("runs", *names, time.strftime("%Y%m%d-%H%M%S"))


def prepare(workdir: str, config: ml_collections.ConfigDict, *, overwrite: bool = False) -> None:
    """Creates `workdir` and writes config.json; never clobbers an earlier run silently."""
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    earlier = [p for p in (metrics_path, os.path.join(workdir, "checkpoints")) if os.path.exists(p)]
    if earlier and not overwrite:
        raise RunExistsError(
            f"{workdir} already holds a run ({', '.join(earlier)}); continue it with --resume, "
            "choose another --workdir, or pass --overwrite to replace it"
        )
    os.makedirs(workdir, exist_ok=True)
    if os.path.exists(metrics_path):
        os.remove(metrics_path)
    # Old event files would show up in TensorBoard beside the new run's, and old
    # checkpoints would be taken for this run's.
    for folder in ("tensorboard", "checkpoints"):
        shutil.rmtree(os.path.join(workdir, folder), ignore_errors=True)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        f.write(config.to_json(indent=2, sort_keys=True) + "\n")


def rewind(workdir: str, step: int) -> None:
    """Drops metrics logged after `step`: a resumed run logs them again."""
    path = os.path.join(workdir, "metrics.jsonl")
    if not os.path.exists(path):
        return
    kept = [r for r in read_metrics(workdir) if r["step"] <= step]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in kept)
    os.replace(tmp, path)  # atomic: a crash here leaves the old or the new file, never half


class MetricsWriter:
    """Appends one JSON object per evaluation (step, epoch, split, time and metric values) to
    metrics.jsonl and the same values as TensorBoard scalars `split/metric` to tensorboard/.

    `lead=False` (non-lead processes of a multi-host run) writes nothing at all.
    """

    def __init__(self, workdir: str, *, lead: bool = True):
        self.path = os.path.join(workdir, "metrics.jsonl")
        self._tb = tensorboardX.SummaryWriter(os.path.join(workdir, "tensorboard")) if lead else None

    def write(self, *, step: int, epoch: int, split: str, metrics: Mapping[str, float]) -> dict:
        record = {"step": int(step), "epoch": int(epoch), "split": split, "time": time.time()}
        record.update({k: float(v) for k, v in metrics.items()})
        if self._tb is None:
            return record
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        for k in metrics:
            self._tb.add_scalar(f"{split}/{k}", record[k], record["step"], walltime=record["time"])
        # One write per evaluation: flushing each keeps TensorBoard live at negligible cost.
        self._tb.flush()
        return record

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def read_metrics(workdir: str) -> list[dict]:
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]
