"""Wall time of `mnist_cnn` with checkpoints never / every epoch / every N steps.

    .venv/bin/python -m benchmarks.checkpoint_overhead [--epochs 10] [--every 5]

Each run trains the same model from the same seed (so the same work); the
difference in wall time is the cost of the checkpoints (orbax save, synchronous).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from jaxdl import config as config_lib, experiments
from jaxdl.train import loop


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--every", type=int, default=5, help="the every-N-steps setting to measure")
    args = p.parse_args()
    rows = []
    # A throwaway run first, so compilation is cached for all measured ones.
    settings = [("warm-up", -1), ("end only", -1), ("every epoch", 0), (f"every {args.every} steps", args.every)]
    for label, every in settings:
        config = config_lib.apply_overrides(
            experiments.get_config("mnist_cnn"),
            [f"train.epochs={args.epochs}", f"train.checkpoint_every_steps={every}", "train.eval_splits=()"],
        )
        with tempfile.TemporaryDirectory() as workdir:
            start = time.perf_counter()
            loop.train(config, workdir, live=False)
            seconds = time.perf_counter() - start
        saves = {-1: 1, 0: args.epochs}.get(every, 27 * args.epochs // max(every, 1))
        if label != "warm-up":
            rows.append((label, saves, seconds))
    base = rows[0][2]
    print("\n| checkpoints | saves | wall s | overhead | per save |\n|---|---|---|---|---|")
    for label, saves, seconds in rows:
        per = (seconds - base) / max(saves - 1, 1) * 1000
        print(f"| {label} | {saves} | {seconds:.1f} | {100 * (seconds / base - 1):+.1f}% | "
              f"{per:.0f} ms |")


if __name__ == "__main__":
    main()
