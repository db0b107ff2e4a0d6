"""Command to first step: `jaxdl train mnist_mlp --set train.epochs=1` in a fresh process vs a plain
PyTorch script in a fresh process that loads the same MNIST-5k arrays and takes one step.

Both clocks start just before the process is launched (so Python's own start-up counts) and stop
when the first step's results are on the host. jaxdl's first step is seen through its progress
counter: the command runs under a two-line wrapper that prints the wall time of the first
`Progress.update`, i.e. the end of the first jitted chunk of steps (a few steps of ~1 ms each;
the chunk size is in the note). Each side runs `repeats` times alternately, after one untimed
warm-up run each: jaxdl's warm-up fills a fresh persistent compilation cache (its time, a cold
cache, is in the note), and both warm the OS's file cache. The best run of each side is reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from benchmarks.workloads import Result

COMMAND = ["train", "mnist_mlp", "--set", "train.epochs=1"]
MARK = "FIRST_STEP"

# `python -m jaxdl train ...` as it runs, plus a print of the time when the first chunk of steps is done.
JAXDL_PROGRAM = f"""
import sys, time
from jaxdl import cli
from jaxdl.train import progress
first_update = progress.Progress.update
def update(self, steps, metrics):
    print("{MARK}", time.time(), steps, file=sys.stderr, flush=True)
    progress.Progress.update = first_update
    first_update(self, steps, metrics)
progress.Progress.update = update
sys.exit(cli.main(sys.argv[1:]))
"""

# What a PyTorch user writes: the same arrays (jaxdl's loader, read as jaxdl's run reads them), the
# same 784-100-10 MLP and Adam(1e-3), one step of batch 128.
TORCH_PROGRAM = f"""
import sys, time
import torch
from benchmarks import torch_models as tm
from jaxdl import data
torch.set_num_threads(int(sys.argv[1]))
train = data.load_arrays("mnist5k", "train")
generator = torch.Generator().manual_seed(0)
model = tm.mlp((784, 100, 10), generator)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.from_numpy(train["image"][:128]), torch.from_numpy(train["label"][:128]).long()
tm.classification_step(model, opt, x, y)
print("{MARK}", time.time(), 1, file=sys.stderr, flush=True)
"""


def fresh_env(cache_dir: str, data_dir: str) -> dict[str, str]:
    """The environment of a benchmark's fresh process: this repository importable, no terminal,
    `jaxdl`'s compilation cache in `cache_dir` ("" turns it off), the data in `data_dir` if given,
    malloc as the command sets it (a `JAXDL_KEEP_FREED_MEMORY` in the caller's shell dropped)."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "JAXDL_COMPILATION_CACHE": cache_dir, "CI": "true",
           "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env.pop("JAXDL_KEEP_FREED_MEMORY", None)
    if data_dir:
        env["JAXDL_DATA_DIR"] = data_dir
    return env


def _launch(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds from launch to the first step, seconds from launch to exit, steps in the first chunk)."""
    start = time.time()
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    end = time.time()
    marks = [line.split() for line in run.stderr.splitlines() if line.startswith(MARK)]
    if run.returncode != 0 or not marks:
        raise RuntimeError(f"{' '.join(argv[:3])}... failed (exit {run.returncode}): {run.stderr[-2000:]}")
    _, at, steps = marks[0]
    return float(at) - start, end - start, int(steps)


def command_to_first_step(sz, torch_ok: bool, data_dir: str, threads: int) -> Result:
    res = Result("first_step", "command to first step: `jaxdl train mnist_mlp --set train.epochs=1` "
                 "vs a PyTorch script, fresh processes", "s", higher_is_better=False)
    with tempfile.TemporaryDirectory() as tmp:
        env = fresh_env(os.path.join(tmp, "xla"), data_dir)

        def jaxdl_run(i: int) -> tuple[float, float, int]:
            workdir = ["--workdir", os.path.join(tmp, f"run{i}")]
            return _launch([sys.executable, "-c", JAXDL_PROGRAM, *COMMAND, *workdir], env)

        def torch_run() -> tuple[float, float, int]:
            return _launch([sys.executable, "-c", TORCH_PROGRAM, str(threads)], env)

        cold = jaxdl_run(0)
        jaxdl_runs, torch_runs = [], []
        if torch_ok:
            torch_run()
        for i in range(sz.startup_repeats):
            jaxdl_runs.append(jaxdl_run(i + 1))
            if torch_ok:
                torch_runs.append(torch_run())
    first, total, chunk = min(jaxdl_runs)
    res.jaxdl = first
    res.torch = min(torch_runs)[0] if torch_runs else None
    torch_text = f"torch runs {', '.join(f'{r[0]:.2f}' for r in torch_runs)} s; " if torch_runs else ""
    res.note = (f"best of {sz.startup_repeats}, warm compilation cache; jaxdl runs "
                f"{', '.join(f'{r[0]:.2f}' for r in jaxdl_runs)} s to the first step (a chunk of {chunk} "
                f"steps); {torch_text}the best jaxdl run spent {first:.2f} of its {total:.2f} s "
                f"({100 * first / total:.0f}%) before its first step; cold cache: {cold[0]:.2f} of "
                f"{cold[1]:.2f} s")
    return res
