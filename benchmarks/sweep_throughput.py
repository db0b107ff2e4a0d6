"""Training throughput (model-steps/s) of an init sweep of the MNIST MLP, four ways.

    .venv/bin/python -m benchmarks.sweep_throughput [--members 64] [--epochs 8] [--quick]
    .venv/bin/python -m benchmarks.sweep_throughput --scale 256,1024 --base-epochs 1 --epochs 2

With `--scale`, the rows are sweeps of those sizes chunked by the memory sizer instead
(`benchmarks/sweep_scale.py`: model-steps/s, compile time, peak memory, chunk size chosen).

The workload is `mnist_mlp` (784-100-10 ReLU, softmax cross-entropy, Adam 1e-3, batch 128,
the 3,500 mnist5k training images on device) with `model.init_scale` over 4 values x
members/4 seeds. A model-step is one train step of one member; throughput is model-steps
summed over members per second:

1. jaxdl sweep: `jaxdl.sweep.run`, all members in one vmapped program (one chunk);
2. sequential jaxdl: `jaxdl.train.loop.train` once per member (a subset, scaled);
3. PyTorch loop: one `nn.Module` + `torch.optim.Adam` per member, trained in turn;
4. PyTorch vmap: `torch.func.stack_module_state` + `functional_call` + `vmap`, with
   `torch.optim.Adam` over the stacked parameters (Adam is elementwise, so that is exactly
   per-member Adam) and per-member batches, as jaxdl's default `per_seed` data order.

Compilation is excluded by the difference method: every jaxdl measurement times a run of
`--base-epochs` and one of `--epochs` and divides the extra steps by the extra seconds, so
whatever a run pays once (compiling, building the state, loading data to the device, the
final checkpoint) cancels. A persistent compilation cache is on (a fresh temp dir; jaxdl's
CLI keeps one in ~/.cache) and a throwaway run of each jaxdl method fills it first, so later
runs load their programs. That matters for one program: the sweep compiles its shuffled-index
program once per epoch number (the epoch is a static argument in jaxdl/sweep/runner.py),
which without the cache would count as per-epoch work. The first, cold sweep's time minus
its steady-state estimate is reported as its compile + setup time. PyTorch compiles
nothing: after a one-epoch warm-up, the whole job is timed. Every rate is the median of
`--repeats`; "whole job" is the (median) wall time of all members at `--epochs`, fixed
costs included (warm cache).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import jax

from benchmarks import sweep_torch
from jaxdl import config as config_lib, data, experiments, sweep
from jaxdl.train import loop

SCALES = (0.001, 0.01, 0.1, 1.0)  # model.init_scale values: 4 x (members / 4) seeds
NOT_INSTALLED = "not installed (pip install -e .[bench])"
METHODS = ("jaxdl sweep (vmap)", "jaxdl sequential runs", "PyTorch loop", "PyTorch torch.func vmap")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=int, default=64, help="a multiple of 4 (4 init scales x seeds)")
    p.add_argument("--epochs", type=int, default=8, help="epochs of the long runs (and of the job)")
    p.add_argument("--base-epochs", type=int, default=1, help="epochs of the short runs (difference method)")
    p.add_argument("--repeats", type=int, default=3, help="timings per method; the median is reported")
    # A single run's fixed cost (~0.5 s on CPU) dwarfs an epoch's (~20 ms): enough runs are
    # needed for the difference to stand clear of that cost's jitter.
    p.add_argument("--sequential-runs", type=int, default=16,
                   help="members timed as single jaxdl runs; the rate is per member-step, so it scales")
    p.add_argument("--max-train-examples", type=int, default=0, help="0 = all 3,500")
    p.add_argument("--data-dir", default="", help="TFDS data dir (default: jaxdl's)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch rows")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes for a smoke test: 4 members, 1 and 2 epochs, 512 examples, 1 repeat")
    p.add_argument("--out", default="", help="JSON path (default benchmarks/results/sweep_throughput_<backend>.json)")
    p.add_argument("--scale", default="", metavar="M1,M2",
                   help="instead: one row per sweep size, chunked by the sizer (see benchmarks/sweep_scale.py)")
    args = p.parse_args(argv)
    if args.quick:
        args.members, args.base_epochs, args.epochs, args.repeats = 4, 1, 2, 1
        args.sequential_runs, args.max_train_examples = 2, 512
    if args.members % len(SCALES) or args.members < len(SCALES):
        p.error(f"--members must be a positive multiple of {len(SCALES)}")
    if not 0 < args.base_epochs < args.epochs:
        p.error("need 0 < --base-epochs < --epochs")
    args.sequential_runs = max(1, min(args.sequential_runs, args.members))
    return args


def make_config(args, epochs: int, *extra: str):
    # No evaluation and one checkpoint at the very end, in every jaxdl run: the sweep and the
    # single runs then do the same work per epoch (27 train steps per member, nothing else).
    return config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [
        f"train.epochs={epochs}", "train.eval_splits=()", "train.num_devices=1",
        "train.checkpoint_every_steps=-1", f"data.max_train_examples={args.max_train_examples}",
        f"data.data_dir={args.data_dir}", "model.kernel_init=lecun_normal", *extra])  # the torch side's init


def members(args) -> list[tuple[int, float]]:
    """(seed, init_scale) in the sweep's row order: seeds outer, scales inner."""
    return [(seed, scale) for seed in range(args.members // len(SCALES)) for scale in SCALES]


@contextlib.contextmanager
def quiet():
    """jaxdl prints progress lines per run; keep the benchmark's own output readable."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def difference_rate(timed, base_epochs: int, epochs: int, repeats: int):
    """Median over repeats of (steps(E2) - steps(E1)) / (t(E2) - t(E1)); `timed(E)` -> (s, steps).

    Falls back to steps(E2) / t(E2), which includes the fixed costs (an underestimate), when
    noise makes a difference non-positive (only at --quick sizes)."""
    rates, long_times = [], []
    for _ in range(repeats):
        gc.collect()  # garbage from the previous run is not this run's cost
        t1, s1 = timed(base_epochs)
        gc.collect()
        t2, s2 = timed(epochs)
        long_times.append(t2)
        rates.append((s2 - s1) / (t2 - t1) if t2 > t1 else s2 / t2)
    return statistics.median(rates), rates, statistics.median(long_times)


# --- jaxdl ---------------------------------------------------------------------------------

def time_sweep(args, epochs: int) -> tuple[float, int]:
    config = make_config(args, epochs)
    seeds = args.members // len(SCALES)
    start = time.perf_counter()
    with quiet():
        # chunk_size = all members: one compiled program, no memory probe.
        result = sweep.run(config, seeds=seeds, grid={"model.init_scale": list(SCALES)}, num_devices=1,
                           chunk_size=args.members, live=False)
    seconds = time.perf_counter() - start
    assert len(result.rows) == args.members
    return seconds, result.member_steps


def time_sequential(args, epochs: int) -> tuple[float, int]:
    """`--sequential-runs` members (spread over the scales) as single runs, one after another."""
    chosen = members(args)[: args.sequential_runs]
    steps = 0
    start = time.perf_counter()
    for seed, scale in chosen:
        # One jitted scan per epoch, as the sweep runs it (the default, 10 per epoch, syncs
        # with the host 10 times per epoch to update the progress bar).
        config = make_config(args, epochs, f"seed={seed}", f"model.init_scale={scale}",
                             "train.progress_updates_per_epoch=1")
        with tempfile.TemporaryDirectory() as workdir, quiet():
            result = loop.train(config, workdir, live=False)
        steps += int(result.state.step)
    return time.perf_counter() - start, steps


# --- main ----------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    backend = jax.default_backend()
    device = f"{jax.devices()[0].device_kind} ({jax.device_count()} {backend} device(s) seen, 1 used)"
    if backend == "cpu":
        device += f", {os.cpu_count()} cores, {cpu_model()}"
    if args.scale:
        return scale_main(args, argv, backend, device)
    out = args.out or os.path.join("benchmarks", "results", f"sweep_throughput_{backend}.json")

    # A persistent compilation cache, fresh so the first compile is real; left alone when the
    # caller (the test suite, a user) already set one.
    cache_note = "existing persistent cache"
    if not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="jaxdl-bench-cache-"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        cache_note = "fresh persistent cache"

    arrays = data.load_arrays("mnist5k", "train", data_dir=args.data_dir or None,
                              max_examples=args.max_train_examples or None)
    n = len(arrays["label"])
    steps_per_epoch = n // 128
    print(f"sweep throughput: mnist_mlp, {args.members} members ({len(SCALES)} init scales x "
          f"{args.members // len(SCALES)} seeds), {n} train examples, batch 128 -> {steps_per_epoch} steps/epoch, "
          f"epochs {args.base_epochs} vs {args.epochs}, {args.repeats} repeat(s)", flush=True)

    rows, cold_s, cold_steps = _jaxdl_rows(args)
    torch_info = _torch_rows(args, arrays, rows)
    compile_s = cold_s - cold_steps / rows[METHODS[0]]["rate"]
    print("\n".join(_table(args, rows, backend, device, torch_info, steps_per_epoch, cold_s, cold_steps,
                           compile_s)), flush=True)

    base = rows[METHODS[1]]["rate"]
    result = {
        "backend": backend, "device": device, "jax_version": jax.__version__,
        "torch_version": torch_info["version"], "torch_threads": torch_info["threads"],
        "python": platform.python_version(), "command": " ".join(["python -m benchmarks.sweep_throughput",
                                                                   *(argv if argv is not None else sys.argv[1:])]),
        "members": args.members, "init_scales": list(SCALES), "seeds": args.members // len(SCALES),
        "train_examples": n, "batch_size": 128, "steps_per_epoch": steps_per_epoch,
        "epochs": args.epochs, "base_epochs": args.base_epochs, "repeats": args.repeats,
        "sequential_runs_timed": args.sequential_runs, "compilation_cache": cache_note,
        "sweep_cold_seconds": cold_s, "sweep_compile_seconds": compile_s,
        "rows": [{"method": m, "model_steps_per_s": rows[m]["rate"],
                  "ratio_vs_sequential": None if rows[m]["rate"] is None else rows[m]["rate"] / base,
                  "job_seconds": rows[m]["job_s"], "samples": rows[m]["samples"], "note": rows[m]["note"]}
                 for m in METHODS],
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {out}")
    return result


def _jaxdl_rows(args) -> tuple[dict, float, int]:
    """The two jaxdl methods' rows, and the sweep's cold first run (seconds, model-steps)."""
    rows = {}
    # 1. The sweep: first a cold run (compiles, fills the cache), then the measurements.
    cold_s, cold_steps = time_sweep(args, args.epochs)
    rate, samples, job_s = difference_rate(lambda e: time_sweep(args, e), args.base_epochs, args.epochs,
                                           args.repeats)
    rows[METHODS[0]] = dict(rate=rate, samples=samples, job_s=job_s,
                            note=f"1 compiled program for {args.members} members; difference method")
    print(f"  {METHODS[0]}: {rate:,.0f} model-steps/s (cold first run {cold_s:.1f} s)", flush=True)

    # 2. Single runs: a throwaway run first fills the cache with its programs.
    with tempfile.TemporaryDirectory() as workdir, quiet():
        loop.train(make_config(args, args.epochs, "train.progress_updates_per_epoch=1"), workdir, live=False)
    rate, samples, subset_s = difference_rate(lambda e: time_sequential(args, e), args.base_epochs, args.epochs,
                                              args.repeats)
    rows[METHODS[1]] = dict(
        rate=rate, samples=samples, job_s=subset_s * args.members / args.sequential_runs,
        note=f"{args.sequential_runs} of {args.members} runs timed; job time scaled; difference method")
    print(f"  {METHODS[1]}: {rate:,.0f} model-steps/s", flush=True)
    return rows, cold_s, cold_steps


def _torch_rows(args, arrays: dict, rows: dict) -> dict:
    """Adds the two PyTorch methods' rows (optional: skipped without torch); returns its version
    and threads."""
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if torch is None:
        for method in METHODS[2:]:
            rows[method] = dict(rate=None, samples=[], job_s=None,
                                note="skipped (--no-torch)" if args.no_torch else NOT_INSTALLED)
        return {"version": None, "threads": None}
    x, y = sweep_torch.torch_data(torch, arrays["image"], arrays["label"])
    for method, fn, note in [
        (METHODS[2], sweep_torch.torch_loop, "one model after another; whole job timed after a warm-up"),
        (METHODS[3], sweep_torch.torch_vmap, "per-member batches; Adam over stacked params; whole job timed"),
    ]:
        rate, samples, job_s = sweep_torch.time_torch(fn, torch, x, y, args, members(args))
        rows[method] = dict(rate=rate, samples=samples, job_s=job_s, note=note)
        print(f"  {method}: {rate:,.0f} model-steps/s", flush=True)
    return {"version": torch.__version__, "threads": torch.get_num_threads()}


def _table(args, rows: dict, backend: str, device: str, torch_info: dict, steps_per_epoch: int, cold_s: float,
           cold_steps: int, compile_s: float) -> list[str]:
    base = rows[METHODS[1]]["rate"]
    torch_text = (f"torch {torch_info['version']}, {torch_info['threads']} intra-op threads (default)"
                  if torch_info["version"] else "torch not used")
    lines = [
        f"\nbackend {backend}: {device}; jax {jax.__version__}; {torch_text}",
        f"{args.members} members x {args.epochs} epochs x {steps_per_epoch} steps = "
        f"{args.members * args.epochs * steps_per_epoch:,} model-steps per job; jaxdl rates by the difference "
        f"method ({args.base_epochs} vs {args.epochs} epochs, compilation excluded), medians of {args.repeats}",
        "",
        "| method | model-steps/s | range over repeats | vs sequential jaxdl | whole job, s | notes |",
        "|---|---|---|---|---|---|",
    ]
    for method in METHODS:
        r = rows[method]
        if r["rate"] is None:
            lines.append(f"| {method} | {r['note']} | | | | |")
        else:
            lines.append(f"| {method} | {r['rate']:,.0f} | {min(r['samples']):,.0f}-{max(r['samples']):,.0f} | "
                         f"{r['rate'] / base:.2f}x | {r['job_s']:.1f} | {r['note']} |")
    lines.append(f"\nwhole job: {args.members} members x {args.epochs} epochs, warm compilation cache, including "
                 "each run's setup (data to device, tracing, checkpoint)")
    lines.append(f"jaxdl sweep, first run with a cold compilation cache: {cold_s:.1f} s, of which compile + "
                 f"setup ~{compile_s:.1f} s (the rest: {cold_steps:,} model-steps at the steady-state rate)")
    if args.quick:
        lines.append("--quick: sizes for a smoke test; these numbers measure overheads, not throughput")
    return lines


def scale_main(args, argv, backend: str, device: str) -> dict:
    from benchmarks import sweep_scale

    sizes = [int(m) for m in args.scale.split(",")]
    print(f"sweep scale: mnist_mlp init sweeps of {sizes} members, epochs {args.base_epochs} vs {args.epochs}, "
          f"validation every epoch, chunk size from the memory sizer", flush=True)
    scale_rows = sweep_scale.rows(sizes, args)
    print(f"\nbackend {backend}: {device}; jax {jax.__version__}\n" + sweep_scale.table(scale_rows), flush=True)
    command = ["python -m benchmarks.sweep_throughput", *(argv if argv is not None else sys.argv[1:])]
    result = {"backend": backend, "device": device, "jax_version": jax.__version__, "command": " ".join(command),
              "rows": scale_rows}
    out = args.out or os.path.join("benchmarks", "results", f"sweep_scale_{backend}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
