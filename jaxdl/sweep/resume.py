"""What a sweep keeps in its workdir while it trains, so that `--resume` continues where it stopped.

- `sweep.json`: what the sweep is (config, seeds, grid, data order, requested chunk size) and the
  chunk size each batch-size group was trained with; `--resume` refuses a workdir whose sweep differs.
- `results.jsonl` / `curves.jsonl`: each chunk's rows and curves, appended when the chunk ends
  (curves first: a chunk all of whose rows are there is finished); a resumed sweep never retrains it.
- `checkpoints/`: orbax checkpoints (`jaxdl.train.checkpoint`: the same checksums and fingerprint check
  as single runs) of the current chunk's members at epoch ends, with their evals so far. A
  checkpoint's step counts the epochs the sweep has trained, so steps increase across chunks.

Members train as a pure function of their inputs, epoch by epoch, in programs fixed by the chunk
size (recorded), so a resumed sweep writes what an uninterrupted one does (bit for bit on CPU).
Only process 0 writes files; every process takes part in orbax's saves, as in single runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import ml_collections

from jaxdl import config as config_lib, parallel
from jaxdl.train import checkpoint, loop, workdir as wd
from jaxdl.train.state import TrainState

SWEEP_FILE = "sweep.json"
ROWS, CURVES = "results.jsonl", "curves.jsonl"
# Beyond a single run's fingerprint, what changes a sweep's rows: how long members train, which splits
# score them, how the data reach them, and the eval batches (padding, keys).
_TRAIN_KEYS = ("epochs", "num_steps", "eval_splits")
_DATA_KEYS = ("on_device", "eval_batch_size")


def describe(config: ml_collections.ConfigDict, seeds: list[int], grid: dict, data_order: str,
             chunk_size: int, halving=None) -> dict:
    """The sweep a workdir holds, as JSON: what a resumed sweep must agree with (a halving sweep's
    spec too, so that a plain `--resume` refuses its workdir)."""
    values = loop.fingerprint(config)
    values["train"] = {k: config.train.get(k) for k in _TRAIN_KEYS}
    values["data"].update({k: config.data.get(k) for k in _DATA_KEYS})
    described = {"config": values, "seeds": seeds, "grid": grid, "data_order": data_order, "chunk_size": chunk_size}
    if halving:
        described["halving"] = dataclasses.asdict(halving)
    return json.loads(json.dumps(described))


def checkpoint_due(every: int, epoch: int, steps_per_epoch: int) -> bool:
    """`train.checkpoint_every_steps` at epoch ends: 0 every epoch, N at the first epoch end past each
    multiple of N steps, -1 never (SIGTERM still saves)."""
    end = epoch * steps_per_epoch
    return every == 0 or every > 0 and end // every > (end - steps_per_epoch) // every


class SweepStore:
    """A sweep's workdir: finished chunks, the current chunk's checkpoints, the chunk sizes chosen."""

    def __init__(self, workdir: str, config: ml_collections.ConfigDict, description: dict, *, resume: bool):
        self.workdir, self.description = workdir, description
        self.lead = parallel.is_lead()
        self.chunk_sizes: dict[int, int] = {}  # batch size -> members per compiled call
        self._rows: dict[int, dict] = {}  # member -> its row, from an earlier (interrupted) invocation
        self._curves: dict[int, list[dict]] = {}
        self._kept: list[int] = []  # members of the finished chunks found so far, in order
        self._pruned = False
        resuming = resume and os.path.exists(self._path(SWEEP_FILE))
        if resume and not resuming and self.lead:
            print(f"{workdir}: no sweep to resume; starting it", flush=True)
        if resuming:
            self._load()
        elif self.lead:
            wd.prepare(workdir, config)  # refuses a workdir holding an unfinished sweep (checkpoints/)
            for name in (ROWS, CURVES, "results.csv"):
                if os.path.exists(self._path(name)):
                    os.remove(self._path(name))
            self._write_description()
        self.ckpt = checkpoint.Checkpointer(self._path("checkpoints"), max_to_keep=config.train.keep_checkpoints,
                                            fingerprint=description)

    def record_chunk_size(self, batch_size: int, chunk: int) -> None:
        self.chunk_sizes[batch_size] = chunk
        if self.lead:
            self._write_description()

    def finished(self, members: list[dict]) -> tuple[list[dict], list[dict]] | None:
        """The rows and curves of a chunk of `members` that an earlier invocation finished, else None."""
        ids = [m["member"] for m in members]
        if not all(i in self._rows for i in ids):
            return None
        self._kept += ids
        return [self._rows[i] for i in ids], [c for i in ids for c in self._curves.get(i, [])]

    def append(self, rows: list[dict], curves: list[dict]) -> None:
        """Appends a finished chunk's curves, then its rows."""
        if not self.lead:
            return
        if not self._pruned:  # drop what a chunk cut short by a kill wrote (it is trained again)
            self._rewrite(CURVES, [c for i in self._kept for c in self._curves.get(i, [])])
            self._rewrite(ROWS, [self._rows[i] for i in self._kept])
            self._pruned = True
        for name, records in ((CURVES, curves), (ROWS, rows)):
            with open(self._path(name), "a") as f:
                f.write("".join(json.dumps(r) + "\n" for r in records))

    def save(self, step: int, state: TrainState, extra: dict) -> None:
        self.ckpt.save(step, state, extra)

    def restore(self, target: TrainState, first: int, last: int) -> tuple[TrainState, dict] | None:
        """The latest checkpoint with a step in [first, last] (the current chunk's), restored into `target`."""
        self.ckpt.wait()
        saved = [s for s in self.ckpt.all_steps() if first <= s <= last]
        return self.ckpt.restore(target, saved[-1]) if saved else None

    def close(self, *, complete: bool) -> None:
        """Waits for the last save; a complete sweep's checkpoints (mid-chunk states) are dropped."""
        self.ckpt.close()
        if complete and self.lead:
            shutil.rmtree(self._path("checkpoints"), ignore_errors=True)

    def _load(self) -> None:
        with open(self._path(SWEEP_FILE)) as f:
            saved = json.load(f)
        old, new = config_lib.flatten(saved["sweep"]), config_lib.flatten(self.description)
        differ = [f"{k}: {old.get(k, '<absent>')!r} (workdir) vs {new.get(k, '<absent>')!r} (now)"
                  for k in sorted(old.keys() | new.keys()) if old.get(k, "<absent>") != new.get(k, "<absent>")]
        if differ:
            raise ValueError(f"{self.workdir} holds another sweep; differing: {'; '.join(differ)}; resume it with "
                             "the arguments it was started with, or choose another --workdir")
        self.chunk_sizes = {int(b): int(c) for b, c in saved["chunk_sizes"].items()}
        for row in _complete_lines(self._path(ROWS)):
            self._rows[row["member"]] = row
        for curve in _complete_lines(self._path(CURVES)):
            self._curves.setdefault(curve["member"], []).append(curve)

    def _write_description(self) -> None:
        text = json.dumps({"sweep": self.description, "chunk_sizes": self.chunk_sizes}, indent=2)
        self._rewrite_text(SWEEP_FILE, text + "\n")

    def _rewrite(self, name: str, records: list[dict]) -> None:
        self._rewrite_text(name, "".join(json.dumps(r) + "\n" for r in records))

    def _rewrite_text(self, name: str, text: str) -> None:
        tmp = self._path(name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self._path(name))  # atomic: the old file or the new, never half

    def _path(self, name: str) -> str:
        return os.path.join(self.workdir, name)


def _complete_lines(path: str) -> list[dict]:
    """The JSON records of `path`, but a last line cut short by a kill."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = f.read().split("\n")
    return [json.loads(line) for line in lines[:-1] if line.strip()]  # [-1]: after the last newline

