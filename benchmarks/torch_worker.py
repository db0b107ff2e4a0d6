"""PyTorch's side of a benchmark row in a process of its own, timed in turns with jaxdl's.

Each library runs as its users run it: its own threads, malloc and garbage. In one process
the two thread pools shared the cores (torch's OpenMP threads were still spinning when XLA's
step began, and the reverse), the garbage collector walked both libraries' objects between
calls, and both had to share one malloc setting; together these moved the MLP row between
0.88x and 1.9x (benchmarks/README.md).

The parent starts `python -m benchmarks.torch_worker ROW SIZES DATA_DIR keep|default`
(`keep`: malloc keeps freed memory, as jaxdl sets it; `default`: glibc's); the child builds
`torch_sides.BUILDERS[ROW]` and answers JSON lines on its stdin/stdout: first a header
(`{"steps", "mem_mib"}` for a timed side, `{"results"}` for a one-shot row), then
`{"run": n}` -> `{"times": [...]}` (`measure.timed_calls`, timed in the child) and
`{"note": true}` -> `{"note": "..."}`. Its prints and errors go to stderr.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TorchProcess:
    """The child process of one row; `results` holds a one-shot row's answer."""

    def __init__(self, row: str, sz, data_dir: str = "", keep_freed_memory: bool = False):
        self.row = row
        # JAX stays on the CPU there (never preallocating a GPU's memory): torch's side uses none of it.
        env = {**os.environ, "JAX_PLATFORMS": "cpu",
               "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.torch_worker", row, json.dumps(dataclasses.asdict(sz)), data_dir,
             "keep" if keep_freed_memory else "default"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        header = self._reply()
        self.steps, self.mem_mib, self.results = header.get("steps"), header.get("mem_mib"), header.get("results")

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the PyTorch process of benchmark row {self.row!r} exited with code "
                               f"{self.proc.wait()} (its error is printed above)")
        return json.loads(line)

    def _ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._reply()

    def run(self, n: int) -> list[float]:
        return self._ask({"run": n})["times"]

    def note(self) -> str:
        return self._ask({"note": True})["note"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@contextlib.contextmanager
def sides(row: str, sz, torch_ok: bool):
    """For the block, `{"torch": Side, "torch_kept": Side}` served by two torch processes, the
    second with jaxdl's malloc setting (`jaxdl.host_memory`), or `{}` without torch."""
    if not torch_ok:
        yield {}
        return
    from benchmarks.workloads import Side

    with TorchProcess(row, sz) as proc, TorchProcess(row, sz, keep_freed_memory=True) as kept:
        yield {name: Side(None, p.steps, p.mem_mib, run=p.run, note=p.note)
               for name, p in (("torch", proc), ("torch_kept", kept))}


def _sizes(fields: dict):
    from benchmarks import run

    return run.Sizes(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def main(argv: list[str]) -> None:
    row, sizes_json, data_dir, malloc = argv
    if malloc == "keep":
        from jaxdl import host_memory

        host_memory.keep_freed_memory()
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the row's own prints go to stderr; stdout carries the answers
    import torch

    from benchmarks import measure, torch_sides

    torch.set_num_threads(measure.cores())  # the cores XLA's pool is sized to in the parent
    built = torch_sides.BUILDERS[row](_sizes(json.loads(sizes_json)), data_dir)
    if isinstance(built, dict):
        protocol.write(json.dumps({"results": built}) + "\n")
        return
    protocol.write(json.dumps({"steps": built.steps, "mem_mib": built.mem_mib}) + "\n")
    run = measure.timed_calls(built.call)
    for line in sys.stdin:
        request = json.loads(line)
        reply = {"times": run(request["run"])} if "run" in request else {"note": built.note() if built.note else ""}
        protocol.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
