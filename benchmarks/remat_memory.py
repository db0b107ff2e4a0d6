"""Peak memory of a compiled train step with and without `model.remat`.

    .venv/bin/python -m benchmarks.remat_memory [--rows gpt,lstm]

For each row and policy: the compiled step's temporaries (`memory_analysis().temp_size_in_bytes`,
the activations kept for the backward pass live there; arguments and outputs are the same for
every policy), its FLOPs (`jaxdl.train.flops.step_flops`, recomputation included) and compile
time. Nothing runs; one step of the experiment's global batch is compiled on the default backend.
"""

from __future__ import annotations

import argparse
import time

import jax

from jaxdl import experiments
from jaxdl.train import flops, summary

ROWS = {
    "gpt": ("gpt_char_tiny", []),  # 4 x 128, context 128, 8 rows of 256 chars
    "lstm": ("char_lstm", ["model.layers=2"]),  # 2 x LSTM-512, 32 rows of 256 chars
    "lstm4": ("char_lstm", ["model.layers=4"]),  # layers 1..3 are the scan that remat checkpoints
}
POLICIES = ("none", "dots_saveable", "full")


def measure(name: str, overrides: list[str], policy: str) -> dict:
    config = experiments.configure(name, [*overrides, f"model.remat={policy}"])
    train_step, state, batch = summary.abstract_step(config)
    start = time.perf_counter()
    compiled = jax.jit(train_step).lower(state, batch).compile()
    seconds = time.perf_counter() - start
    memory = compiled.memory_analysis()
    return {"temp_mib": memory.temp_size_in_bytes / 2**20,
            "args_mib": memory.argument_size_in_bytes / 2**20,
            "gflop": flops.step_flops(train_step, state, batch) / 1e9, "compile_s": seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated: {', '.join(ROWS)}")
    args = p.parse_args()
    print(f"backend: {jax.devices()[0].device_kind}\n")
    print("| row | model.remat | temp MiB | vs none | args MiB | GFLOP/step | compile s |")
    print("|---|---|---|---|---|---|---|")
    for row in args.rows.split(","):
        name, overrides = ROWS[row]
        base = None
        for policy in POLICIES:
            m = measure(name, overrides, policy)
            base = base or m["temp_mib"]
            print(f"| {row} (`{name}` {' '.join(overrides)}) | {policy} | {m['temp_mib']:.1f} | "
                  f"{m['temp_mib'] / base:.2f}x | {m['args_mib']:.1f} | {m['gflop']:.2f} | {m['compile_s']:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
