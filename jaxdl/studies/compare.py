"""`jaxdl compare NAME`: train each variant of a comparison and write one table.

A `by="sweep"` comparison trains each variant as one vmapped sweep over seeds (`jaxdl.sweep.run`)
in WORKDIR/<variant>; its table gives, per variant, mean and standard deviation over seeds of the
final validation and test accuracy and of the test accuracy at the epoch of best validation
accuracy. A `by="runs"` comparison trains each variant as one run (`jaxdl.studies.variants`), or with
several seeds one run per seed, tabulated as mean and sd over seeds of the best-validation
state's metric.
Both write WORKDIR/table.md and WORKDIR/table.json.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence

import numpy as np

from jaxdl import config as config_lib, experiments, sweep
from jaxdl.experiments.comparisons import COMPARISONS, Comparison
from jaxdl.studies import variants as variants_lib
from jaxdl.train import workdir as wd

COLUMNS = {  # table column -> how to read it from a member's curves
    "final validation accuracy": ("final", "validation"),
    "final test accuracy": ("final", "test"),
    "best validation accuracy": ("best", "validation"),
    "test accuracy at best validation": ("best", "test"),
}


def run(comparison: str | Comparison, workdir: str, *, seeds: int = 0, overrides: Sequence[str] = (),
        live: bool | None = None, resume: bool = False) -> dict:
    """Trains every variant of `comparison` (a name or a `Comparison`) in WORKDIR; returns the table.
    With `resume`, finished runs and sweeps there are read back and an interrupted one continues."""
    spec = COMPARISONS.get_or_raise(comparison) if isinstance(comparison, str) else comparison
    name = comparison if isinstance(comparison, str) else spec.experiment
    os.makedirs(workdir, exist_ok=True)
    shared = [*spec.overrides, *overrides]
    if spec.by == "runs":
        named = {k: list(v) for k, v in spec.variants.items()}
        n = seeds or spec.seeds
        rows = (variants_lib.run_seeds(spec.experiment, named, workdir, shared, n, resume=resume) if n > 1
                else variants_lib.run(spec.experiment, named, workdir, shared, resume=resume))
        table = {"comparison": name, "experiment": spec.experiment, "by": "runs", "metric": spec.metric,
                 "seeds": n, "description": spec.description, "overrides": shared, "rows": rows}
    else:
        table = {"comparison": name, "experiment": spec.experiment, "by": "sweep", "seeds": seeds or spec.seeds,
                 "overrides": shared,
                 "variants": _sweep_variants(spec, workdir, seeds or spec.seeds, shared, live, resume)}
    with open(os.path.join(workdir, "table.json"), "w") as f:
        json.dump(table, f, indent=1)
    with open(os.path.join(workdir, "table.md"), "w") as f:
        f.write(markdown(table))
    return table


def report(comparison: str, workdir: str | None = None, *, seeds: int = 0, overrides: Sequence[str] = (),
           variants: dict[str, list[str]] | None = None, metric: str = "accuracy", resume: bool = False) -> str:
    """What `jaxdl compare` prints: the table of a named comparison, or of an experiment's `variants`
    (or, stopped by SIGTERM, where it stopped and how to continue)."""
    if variants:
        spec: str | Comparison = Comparison(comparison, "variants from the command line",
                                            {k: tuple(v) for k, v in variants.items()}, seeds=1, by="runs",
                                            metric=metric)
        experiments.get_config(comparison)  # an unknown experiment fails before anything trains
    elif comparison in COMPARISONS:
        spec = comparison
    else:
        raise ValueError(f"{comparison!r} is not a comparison ({', '.join(COMPARISONS)}); name one, or name an "
                         "experiment and give --variant LABEL:KEY=V,KEY=V")
    if resume and not workdir:
        raise ValueError("--resume needs the --workdir of the comparison to continue")
    workdir = workdir or wd.default_workdir("compare", comparison)
    try:
        table = run(spec, workdir, seeds=seeds, overrides=overrides, resume=resume)
    except variants_lib.Preempted as stopped:
        return variants_lib.preempted_message(comparison, stopped, workdir)
    return markdown(table) + f"table.md and table.json in {workdir}"


def _sweep_variants(spec: Comparison, workdir: str, seeds: int, overrides: list[str], live,
                    resume: bool) -> list[dict]:
    out = []
    for label, sets in spec.variants.items():
        config = config_lib.apply_overrides(experiments.get_config(spec.experiment), [*overrides, *sets])
        start = time.perf_counter()
        path = os.path.join(workdir, _slug(label))
        result = sweep.run(config, seeds=seeds, workdir=path, live=live, resume=resume)
        if result.preempted:
            raise variants_lib.Preempted(path)
        out.append({"variant": label, "overrides": list(sets), "seconds": round(time.perf_counter() - start, 1),
                    **_summarize(result)})
    return out


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
    """The table as markdown, ending in a newline."""
    if table.get("by") == "runs":
        if table.get("seeds", 1) > 1:
            return (f"{table['comparison']} ({table['experiment']}, {table['seeds']} seeds; {table['description']})"
                    "\n\n" + variants_lib.seed_table(table["rows"], table["metric"]) + "\n")
        return f"{table['comparison']} ({table['experiment']})\n\n" + variants_lib.table(table["rows"],
                                                                                        table["metric"]) + "\n"
    head = ["variant", *COLUMNS, "seconds"]
    lines = [f"{table['comparison']} ({table['experiment']}, {table['seeds']} seeds; accuracy mean ± sd over seeds)",
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v in table["variants"]:
        cells = [f"{100 * v[c]['mean']:.2f} ± {100 * v[c]['sd']:.2f} %" for c in COLUMNS]
        lines.append("| " + " | ".join([v["variant"], *cells, f"{v['seconds']:.0f}"]) + " |")
    return "\n".join(lines) + "\n"


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
