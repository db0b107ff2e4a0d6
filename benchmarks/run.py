"""jaxdl vs PyTorch training throughput on the current backend: one command, one table.

    python -m benchmarks.run [--small] [--rows mlp,cnn,...] [--out DIR] [--data-dir DIR]

Rows: MLP 784-512-512-10 b128 and the MNIST CNN b128 (steps/s), char-LSTM 2x512 b64 t128 and
a GPT char model of nanoGPT's shakespeare-char shape (tokens/s), a 64-member init sweep of
mnist_mlp (model-steps/s, PyTorch as a loop and as torch.func vmap), the wall time of
mnist_cnn from nothing to a target validation accuracy, and the wall time from launching
`jaxdl train mnist_mlp` to its first step (benchmarks/startup.py). Each rate is a median of repeats after
a warm-up, blocking on the device; jaxdl goes through its public training step (see
benchmarks/workloads.py). The machine's peak FLOP/s is measured once with a large float32
matmul, and each side's model FLOP/s is given as a fraction of it. PyTorch is optional
(`pip install -e .[bench]`); without it the PyTorch columns say so and the jaxdl rows still run.
Writes DIR/bench_<backend>[_small].json and .md (DIR defaults to benchmarks/results).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys

import jax

from benchmarks import lm_rows, measure, startup, to_target, workloads
from jaxdl import host_memory

ROWS = ("mlp", "cnn", "char_lstm", "gpt", "sweep", "mnist_cnn_e2e", "first_step")
NOT_INSTALLED = "PyTorch not installed (pip install -e .[bench])"
PROCESSES = ("each side as its users run it: jaxdl keeping freed host memory (jaxdl.host_memory), "
             "torch with glibc's malloc defaults; sides take turns, an untimed call starting each turn")
HEADER = ("| workload | unit | jaxdl | plain JAX | PyTorch | jaxdl vs torch | vs torch keeping freed memory "
          "| jaxdl % peak | torch % peak | jaxdl compile s | peak mem MiB jaxdl / torch | notes |")


@dataclasses.dataclass(frozen=True)
class Sizes:
    small: bool = False
    batch: int = 128
    steps: int = 10  # train steps per timed call (MLP); jaxdl scans them, torch loops
    repeats: int = 7  # rounds; a row's sides take turns in each
    calls_per_turn: int = 3  # timed calls a side makes in its turn (MLP, CNN), after an untimed one
    mlp_hidden: tuple = (512, 512)
    cnn_features: tuple = (32, 64)
    cnn_steps: int = 5
    lstm_hidden: int = 512
    lstm_layers: int = 2
    lstm_T: int = 128
    lm_batch: int = 64  # sequences a step; with the context, whole 256-token rows of the char_lm task
    lm_steps: int = 1
    lm_repeats: int = 5
    gpt_layers: int = 6
    gpt_width: int = 384
    gpt_heads: int = 6
    gpt_context: int = 256
    gpt_batch: int = 64
    sweep_args: tuple = ("--members", "64", "--base-epochs", "1", "--epochs", "4", "--repeats", "3")
    target_accuracy: float = 0.95  # mnist_cnn passes it around epoch 4 of 30 (README curves)
    max_epochs: int = 10
    e2e_examples: int = 0  # 0 = all 3,500 mnist5k training images
    e2e_features: tuple = (32, 64)
    startup_repeats: int = 5  # fresh processes per side, after a warm-up each
    matmul_n: int = 2048


def sizes_for(small: bool, backend: str) -> Sizes:
    if small:
        return Sizes(small=True, batch=16, steps=3, repeats=2, calls_per_turn=1, mlp_hidden=(32, 32),
                     cnn_features=(4, 8), cnn_steps=2, lstm_hidden=16, lstm_T=64, lm_batch=4, lm_steps=1, lm_repeats=1,
                     gpt_layers=1, gpt_width=32, gpt_heads=2, gpt_context=64, gpt_batch=4,
                     sweep_args=("--quick",), target_accuracy=0.0, max_epochs=1, e2e_examples=512,
                     e2e_features=(4, 8), startup_repeats=1,
                     matmul_n=256)
    if backend == "cpu":
        # nanoGPT's batch 64 x 256 is ~1 TFLOP a step: minutes on a small CPU.
        return Sizes(gpt_batch=8)
    return Sizes(matmul_n=8192)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="tiny sizes (a smoke test: overheads, not speed)")
    p.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated subset of {','.join(ROWS)}")
    p.add_argument("--out", default=os.path.join("benchmarks", "results"), help="folder for the JSON and table")
    p.add_argument("--data-dir", default="", help="TFDS data dir for mnist5k (default: jaxdl's)")
    p.add_argument("--no-torch", action="store_true", help="jaxdl rows only")
    p.add_argument("--threads", type=int, default=0,
                   help="pin this process to N cores before JAX starts (both sides then use N); 0 = all")
    args = p.parse_args(argv)
    args.rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in args.rows if r not in ROWS]
    if unknown or not args.rows:
        p.error(f"unknown rows {unknown}; valid rows: {', '.join(ROWS)}")
    return args


def import_torch(no_torch: bool):
    if no_torch:
        return None
    try:
        import torch
    except ImportError:
        return None
    # Same core count on both sides: XLA's CPU thread pool is sized to the cores it may use.
    torch.set_num_threads(measure.cores())
    return torch


def device_text(backend: str) -> str:
    text = f"{jax.devices()[0].device_kind} ({backend})"
    if backend == "cpu":
        text += f", {measure.cores()} cores"
        try:
            with open("/proc/cpuinfo") as f:
                text += ", " + next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
    return text


def _num(value, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s":
        return f"{value:.1f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _fraction(rate, flops, peak) -> float | None:
    return None if rate is None or flops is None else rate * flops / peak


def _pct(rate, flops, peak) -> str:
    fraction = _fraction(rate, flops, peak)
    return "" if fraction is None else f"{100 * fraction:.1f}%"


def table(results, peak: float, torch_ok: bool) -> list[str]:
    lines = [HEADER, "|" + "---|" * HEADER.count(" | ") + "---|"]
    for r in results:
        jaxdl = _num(r.jaxdl, r.unit) or "not reached"
        torch_cell = _num(r.torch, r.unit) or ("not installed" if not torch_ok else "not reached")
        speedup, speedup_kept = (f"{x:.2f}x" if x is not None else "" for x in (r.speedup, r.speedup_kept))
        mem = " / ".join("" if m is None else f"{m:,.0f}" for m in (r.jaxdl_mem_mib, r.torch_mem_mib))
        compile_s = "" if r.jaxdl_compile_s is None else f"{r.jaxdl_compile_s:.1f}"
        lines.append(f"| {r.workload} | {r.unit} | {jaxdl} | {_num(r.ceiling, r.unit)} | {torch_cell} | {speedup} "
                     f"| {speedup_kept} "
                     f"| {_pct(r.jaxdl, r.flops, peak)} | {_pct(r.torch, r.flops, peak)} | {compile_s} | {mem} "
                     f"| {r.note} |")
    return lines


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.threads:
        # Before JAX's backend starts: XLA sizes its CPU thread pool to the cores it may use.
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.threads])
    host_memory.keep_freed_memory()  # as every jaxdl run does (`parallel.start`); torch's process keeps glibc's
    backend = jax.default_backend()
    sz = sizes_for(args.small, backend)
    torch = import_torch(args.no_torch)
    torch_ok = torch is not None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    torch_text = (f"torch {torch.__version__}, {torch.get_num_threads()} threads" if torch_ok
                  else ("torch skipped (--no-torch)" if args.no_torch else NOT_INSTALLED))
    print(f"benchmarks.run on {device_text(backend)}; jax {jax.__version__}; {torch_text}", flush=True)

    peak = measure.peak_matmul_flops(sz.matmul_n, 2 if sz.small else 10, torch)
    print(f"peak: {sz.matmul_n}^2 float32 matmul: " + ", ".join(
        f"{k} {v / 1e9:,.1f} GFLOP/s" for k, v in peak.items()), flush=True)

    results = []
    for row in args.rows:
        before = len(results)
        if row == "mlp":
            results.append(workloads.mlp_row(sz, torch_ok))
        elif row == "cnn":
            results.append(workloads.cnn_row(sz, torch_ok))
        elif row == "char_lstm":
            results.append(lm_rows.lstm_row(sz, torch_ok))
        elif row == "gpt":
            results.append(lm_rows.gpt_row(sz, torch_ok))
        elif row == "sweep":
            results += workloads.sweep_row(sz, torch_ok, args.data_dir)
        elif row == "mnist_cnn_e2e":
            results += to_target.mnist_cnn_to_target(sz, torch_ok, args.data_dir, measure.cores())
        elif row == "first_step":
            results.append(startup.command_to_first_step(sz, torch_ok, args.data_dir, measure.cores()))
        for r in results[before:]:
            print(f"  {r.row}: jaxdl {_num(r.jaxdl, r.unit) or '-'} / torch {_num(r.torch, r.unit) or '-'} "
                  f"{r.unit}", flush=True)

    load_text = "" if load is None else f"load average {load[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    heading = [
        f"backend {backend}: {device_text(backend)}; jax {jax.__version__}; {torch_text}; {load_text}; "
        f"torch in a process of its own, {PROCESSES}",
        f"peak {peak['peak'] / 1e9:,.1f} GFLOP/s ({sz.matmul_n}^2 float32 matmul, best of 10, the faster library); "
        "% peak = rate x model FLOPs (forward + backward matmuls/convs) / peak",
        "",
    ]
    lines = heading + table(results, peak["peak"], torch_ok)
    if args.small:
        lines.append("\n--small: tiny sizes for a smoke test; these numbers measure overheads, not throughput")
    text = "\n".join(lines)
    print("\n" + text, flush=True)

    result = {
        "backend": backend, "device": device_text(backend), "jax_version": jax.__version__,
        "torch_version": torch.__version__ if torch_ok else None,
        "torch_threads": torch.get_num_threads() if torch_ok else None, "cores": measure.cores(),
        "python": platform.python_version(), "small": args.small, "load_average_start": load,
        "processes": PROCESSES,
        "command": " ".join(["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
        "git_commit": _git_commit(), "peak_flops": peak, "sizes": dataclasses.asdict(sz),
        "rows": [{**dataclasses.asdict(r), "speedup": r.speedup, "speedup_kept": r.speedup_kept,
                  "jaxdl_fraction_of_peak": _fraction(r.jaxdl, r.flops, peak["peak"]),
                  "torch_fraction_of_peak": _fraction(r.torch, r.flops, peak["peak"])} for r in results],
    }
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"bench_{backend}{'_small' if args.small else ''}")
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=2)
    with open(stem + ".md", "w") as f:
        f.write(text + "\n")
    print(f"wrote {stem}.json and {stem}.md")
    return result


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    main()
