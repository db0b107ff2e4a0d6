"""Train one experiment under several named override sets and print one table: a comparison as one command.

    python -m jaxdl.compare_runs mf_optimizers --workdir runs/compare/mf_optimizers
    python -m jaxdl.compare_runs movielens_mf --variant adam: --variant sgd:optimizer.name=sgd_scratch \\
        --set train.epochs=5

Each variant is a `jaxdl train` run in WORKDIR/LABEL (its metrics.jsonl, best/ as usual); the
table reports the final and, with `train.keep_best`, the best-validation evaluations.
Named comparisons live in `COMPARISONS` beside their experiments:
NAME -> (experiment, overrides shared by every variant, {label: overrides}).
"""

from __future__ import annotations

import argparse
import os
import time

from jaxdl import config as config_lib, experiments
from jaxdl.experiments.cf import COMPARISONS


def run(experiment: str, variants: dict[str, list[str]], workdir: str, overrides: list[str] = (),
        overwrite: bool = False) -> list[dict]:
    """Trains `experiment` + `overrides` + each variant's overrides; returns one row per variant."""
    from jaxdl.train import loop

    rows = []
    for label, variant in variants.items():
        config = config_lib.apply_overrides(experiments.get_config(experiment), [*overrides, *variant])
        start = time.perf_counter()
        result = loop.train(config, os.path.join(workdir, label), overwrite=overwrite, live=False)
        row = {"label": label, "overrides": " ".join(variant), "seconds": time.perf_counter() - start,
               "final": result.final}
        if result.best is not None:
            row["best_epoch"], row["best"] = result.best["epoch"], result.best["evals"]
        rows.append(row)
    return rows


def table(rows: list[dict], metric: str) -> str:
    """A markdown table of `metric` per split, at the best-validation epoch when there is one."""
    splits = [s for s in rows[0].get("best", rows[0]["final"]) if s != "train"]
    lines = [f"| variant | {' | '.join(f'{s} {metric}' for s in splits)} | best epoch | wall s | overrides |",
             "|---" * (len(splits) + 4) + "|"]
    for r in rows:
        evals = r.get("best", r["final"])
        cells = " | ".join(f"{evals[s][metric]:.4f}" for s in splits)
        lines.append(f"| {r['label']} | {cells} | {r.get('best_epoch', '-')} | {r['seconds']:.0f} | "
                     f"`{r['overrides']}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help=f"a named comparison ({', '.join(COMPARISONS)}) or an experiment")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL:KEY=V,KEY=V",
                        help="with an experiment name: a labelled override set")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="applied to every variant")
    parser.add_argument("--workdir", default=None, help="default runs/compare/NAME")
    parser.add_argument("--metric", default="rmse")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    shared: list[str] = []
    if args.name in COMPARISONS:
        experiment, shared, variants = COMPARISONS[args.name]
        variants = dict(variants)
    else:
        experiment, variants = args.name, {}
    for item in args.variant:
        label, _, sets = item.partition(":")
        variants[label] = [s for s in sets.split(",") if s]
    if not variants:
        raise SystemExit(f"no variants: name a comparison ({', '.join(COMPARISONS)}) or pass --variant")
    rows = run(experiment, variants, args.workdir or os.path.join("runs", "compare", args.name),
               [*shared, *args.overrides], args.overwrite)
    print(table(rows, args.metric))


if __name__ == "__main__":
    main()
