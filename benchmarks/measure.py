"""Timing and memory helpers shared by the benchmark rows (no model code here).

Every rate is a median over repeats of a call that has already run once (warm-up), timed
after the device finished (`jax.block_until_ready`, `torch.cuda.synchronize`); a row's sides
(jaxdl, plain JAX, torch) take turns within each repeat (`interleaved_seconds`), torch's in a
process of its own (`torch_worker`).
"""

from __future__ import annotations

import gc
import importlib
import os
import statistics
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp


def cores() -> int:
    """Cores this process may run on (what both XLA's and torch's thread pools are sized to)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def median_seconds(call: Callable[[], None], repeats: int) -> tuple[float, list[float]]:
    """Median wall time of `call()` (which must block until its work is done) over `repeats`."""
    times = []
    for _ in range(repeats):
        gc.collect()  # the previous repeat's garbage is not this one's cost
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def timed_calls(call: Callable[[], None]) -> Callable[[int], list[float]]:
    """`run(n)`: one untimed `call()`, then `n` timed back-to-back calls (seconds each), as a
    training loop makes them. The untimed call lets a side resume after another side ran: on
    2 shared cores the other library's threads were still spinning when the next side started,
    and that, not the step, moved a row by up to 2x (see benchmarks/README.md)."""

    def run(n: int) -> list[float]:
        call()
        times = []
        for _ in range(n):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return times

    return run


def interleaved_seconds(runs: dict[str, Callable[[int], list[float]]], repeats: int,
                        calls_per_turn: int = 1) -> dict[str, float]:
    """Median seconds a call of each side over `repeats` rounds in which the sides take turns
    (the order reversed every other round), each turn `runs[name](calls_per_turn)` (see
    `timed_calls`): the machine's speed drifts over seconds, and alternating puts every side of
    a row under the same drift, where timing one side after the other did not."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for r in range(repeats):
        for name in order if r % 2 == 0 else order[::-1]:
            times[name] += runs[name](calls_per_turn)
    return {name: statistics.median(t) for name, t in times.items()}


class PeakMemory:
    """Peak memory growth while the block runs: host RSS on CPU, device memory on GPU.

    On Linux the RSS high-water mark (VmHWM) is reset by writing 5 to /proc/self/clear_refs;
    the reading is that mark minus the RSS at entry (what this block added at its worst).
    Device memory: torch's `max_memory_allocated` (reset at entry); for JAX, the growth of
    the allocator's `peak_bytes_in_use` (a process-lifetime peak, so a row smaller than an
    earlier one reads 0: the JSON also has each jaxdl step's compiled memory footprint).
    `mib` is None where nothing could be read.
    """

    def __init__(self, side: str):
        self.side, self.mib = side, None

    def __enter__(self):
        # The torch side is measured in the torch process, which never starts JAX's backend.
        self.torch = importlib.import_module("torch") if self.side == "torch" else None
        self.gpu = self.torch.cuda.is_available() if self.torch else jax.default_backend() == "gpu"
        if self.gpu and self.torch:
            self.torch.cuda.synchronize()
            self.torch.cuda.reset_peak_memory_stats()
        elif self.gpu:
            self.start = _jax_device_peak()
        else:
            self.start = _proc_status("VmRSS")
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                self.start = None
        return self

    def __exit__(self, *exc):
        if self.gpu and self.torch:
            self.mib = self.torch.cuda.max_memory_allocated() / 2**20
        elif self.gpu:
            peak = _jax_device_peak()
            self.mib = None if peak is None or self.start is None else max(peak - self.start, 0) / 2**20
        elif self.start is not None:
            self.mib = max(_proc_status("VmHWM") - self.start, 0) / 2**20
        return False


def _proc_status(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _jax_device_peak() -> int | None:
    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def compiled_footprint_mib(compiled) -> float | None:
    """Arguments + outputs + temporaries of a compiled XLA program, minus donated aliases."""
    stats = compiled.memory_analysis()
    if stats is None:
        return None
    total = (stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
             - stats.alias_size_in_bytes)
    return total / 2**20


def peak_matmul_flops(n: int, repeats: int, torch=None) -> dict[str, float]:
    """FLOP/s of an n x n float32 matmul (2 n^3 FLOPs) in JAX and, if given, torch.

    Each is the best of `repeats` (a peak, not a typical rate: on a shared machine the
    median is the neighbours' load). The machine's peak is the faster of the two libraries.
    """
    out = {}
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (n, n), jnp.float32)
    matmul = jax.jit(jnp.matmul)
    matmul(a, b).block_until_ready()
    _, times = median_seconds(lambda: matmul(a, b).block_until_ready(), repeats)
    out["jax"] = 2 * n**3 / min(times)
    if torch is not None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        ta = torch.randn(n, n, device=device)
        tb = torch.randn(n, n, device=device)
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

        def run():
            torch.matmul(ta, tb)
            sync()

        run()
        _, times = median_seconds(run, repeats)
        out["torch"] = 2 * n**3 / min(times)
    out["peak"] = max(out.values())
    return out
