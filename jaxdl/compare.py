"""`jaxdl compare NAME`: train each variant of a comparison over seeds and write a table.

Each variant is one vmapped sweep over seeds (`jaxdl.sweep.run`) in WORKDIR/<variant>;
the table gives, per variant, mean and standard deviation over seeds of the final
validation and test accuracy and of the test accuracy at the epoch of best
validation accuracy, as WORKDIR/table.md and WORKDIR/table.json.
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Sequence

import numpy as np

from jaxdl import config as config_lib, experiments, sweep
from jaxdl.experiments.comparisons import COMPARISONS

COLUMNS = {  # table column -> how to read it from a member's curves
    "final validation accuracy": ("final", "validation"),
    "final test accuracy": ("final", "test"),
    "best validation accuracy": ("best", "validation"),
    "test accuracy at best validation": ("best", "test"),
}


def run(name: str, workdir: str, *, seeds: int = 0, overrides: Sequence[str] = (), live: bool | None = None) -> dict:
    if name not in COMPARISONS:
        raise ValueError(f"unknown comparison {name!r}; valid: {', '.join(COMPARISONS)}")
    spec = COMPARISONS[name]
    seeds = seeds or spec.seeds
    os.makedirs(workdir, exist_ok=True)
    variants = []
    for label, sets in spec.variants.items():
        config = config_lib.apply_overrides(experiments.get_config(spec.experiment), [*sets, *overrides])
        start = time.perf_counter()
        result = sweep.run(config, seeds=seeds, workdir=os.path.join(workdir, _slug(label)), live=live)
        variants.append({"variant": label, "overrides": list(sets), "seconds": round(time.perf_counter() - start, 1),
                         **_summarize(result)})
    table = {"comparison": name, "experiment": spec.experiment, "seeds": seeds, "overrides": list(overrides),
             "variants": variants}
    with open(os.path.join(workdir, "table.json"), "w") as f:
        json.dump(table, f, indent=1)
    with open(os.path.join(workdir, "table.md"), "w") as f:
        f.write(markdown(table))
    return table


def _summarize(result: sweep.SweepResult) -> dict:
    """Per column: mean, sd and the per-seed values of the accuracy (diverged members count as NaN)."""
    out = {}
    for column, (when, split) in COLUMNS.items():
        values = []
        for row in result.rows:
            curve = [c for c in result.curves if c["member"] == row["member"]]
            if when == "final":
                values.append(row[f"final_{split}_accuracy"])
            else:
                at = [c for c in curve if c["split"] == split and c["epoch"] == row["best_epoch"]]
                values.append(at[0]["accuracy"] if at else float("nan"))
        out[column] = {"mean": float(np.mean(values)), "sd": float(np.std(values)), "values": values}
    return out


def markdown(table: dict) -> str:
    head = ["variant", *COLUMNS, "seconds"]
    lines = [f"{table['comparison']} ({table['experiment']}, {table['seeds']} seeds; accuracy mean ± sd over seeds)",
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v in table["variants"]:
        cells = [f"{100 * v[c]['mean']:.2f} ± {100 * v[c]['sd']:.2f} %" for c in COLUMNS]
        lines.append("| " + " | ".join([v["variant"], *cells, f"{v['seconds']:.0f}"]) + " |")
    return "\n".join(lines) + "\n"


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
