"""Sweeps at scale: 256 and 1,024 members of the `mnist_mlp` init sweep, chunked by the sizer.

    .venv/bin/python -m benchmarks.sweep_throughput --scale 256,1024 [--epochs 2] [--base-epochs 1]

Each row runs in its own process (so its peak memory is its own) with a fresh persistent
compilation cache: a cold sweep of `--base-epochs` (compiles), then warm sweeps of
`--base-epochs` and `--epochs`. Model-steps/s is the difference method's
(steps(E2) - steps(E1)) / (t(E2) - t(E1)); compile + setup is the cold run minus the warm one
of the same length. The chunk size is the one `jaxdl.sweep.run` chose from its memory
estimate (`chunk_size=0`); peak memory is the process's maximum resident set. Unlike the
throughput rows, every epoch ends with a validation pass (a real sweep's), which the rate
includes and the sizer must leave room for.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

SCALES = (0.001, 0.01, 0.1, 1.0)


def row(members: int, base_epochs: int, epochs: int, max_train_examples: int, data_dir: str) -> dict:
    """One scale row, measured in this process (run it in a fresh one: see `rows`)."""
    import jax

    from jaxdl import config as config_lib, experiments, sweep
    from jaxdl.sweep import programs

    jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="jaxdl-scale-cache-"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    budget = programs._memory_budget()

    def timed(e: int) -> tuple[float, int, int]:
        config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [
            f"train.epochs={e}", "train.eval_splits=('validation',)", "train.num_devices=1",
            "train.checkpoint_every_steps=-1", f"data.max_train_examples={max_train_examples}",
            f"data.data_dir={data_dir}"])
        out = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out):
            result = sweep.run(config, seeds=members // len(SCALES), grid={"model.init_scale": list(SCALES)},
                               num_devices=1, live=False)
        seconds = time.perf_counter() - start
        chunk = int(re.search(r"(\d+) per compiled call", out.getvalue()).group(1))
        assert len(result.rows) == members
        return seconds, result.member_steps, chunk

    cold_s, _, chunk = timed(base_epochs)
    t1, s1, _ = timed(base_epochs)
    t2, s2, _ = timed(epochs)
    # Noise can undo a tiny difference (only at smoke-test sizes): then the whole warm run's rate.
    rate = (s2 - s1) / (t2 - t1) if t2 > t1 and s2 > s1 else s2 / t2
    return {"members": members, "chunk_size": chunk, "model_steps_per_s": rate,
            "compile_setup_s": cold_s - t1, "cold_s": cold_s, "warm_job_s": t2, "model_steps": s2,
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "memory_budget_gib": budget / 2**30, "epochs": epochs, "base_epochs": base_epochs}


def rows(members: list[int], args) -> list[dict]:
    """Each row in a fresh Python process; prints and returns them."""
    out = []
    for m in members:
        if m % len(SCALES):
            raise SystemExit(f"--scale sizes must be multiples of {len(SCALES)}, got {m}")
        load = os.getloadavg()
        cmd = [sys.executable, "-c", "import json, sys; from benchmarks import sweep_scale; "
               f"print(json.dumps(sweep_scale.row({m}, {args.base_epochs}, {args.epochs}, "
               f"{args.max_train_examples}, {args.data_dir!r})))"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{m} members failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        r["load_average_1_5_15"] = [round(x, 2) for x in load]
        out.append(r)
        print(f"  {m} members: {r['model_steps_per_s']:,.0f} model-steps/s, chunk {r['chunk_size']}, compile + setup "
              f"{r['compile_setup_s']:.1f} s, peak RSS {r['peak_rss_gib']:.2f} GiB (budget "
              f"{r['memory_budget_gib']:.1f} GiB), load average {load[0]:.1f}", flush=True)
    return out


def table(scale_rows: list[dict]) -> str:
    lines = ["| members | chunk size chosen | model-steps/s | compile + setup, s | peak memory (RSS), GiB | "
             "sizer budget, GiB | warm job, s | load average at start |", "|---|---|---|---|---|---|---|---|"]
    for r in scale_rows:
        lines.append(f"| {r['members']:,} | {r['chunk_size']:,} | {r['model_steps_per_s']:,.0f} | "
                     f"{r['compile_setup_s']:.1f} | {r['peak_rss_gib']:.2f} | {r['memory_budget_gib']:.1f} | "
                     f"{r['warm_job_s']:.1f} | {r['load_average_1_5_15'][0]:.1f} |")
    return "\n".join(lines)
