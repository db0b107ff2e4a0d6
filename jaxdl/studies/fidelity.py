"""`jaxdl studies [NAME]`: the original code against jaxdl on the same data, as one table.

For every row of a study (`jaxdl.experiments.studies`), each side (the original's choices in
jaxdl, jaxdl's default) trains one run per seed (`jaxdl.studies.variants.run_seeds`, in
WORKDIR/ROW/seedS/SIDE); its cell is the mean +- sd over seeds, and every seed's value, of the
test metric of the state chosen on validation, or of the last state where the side says
*final*. The original code's cell is the study's reference numbers, or, for a row naming a
baseline whose library is installed, that baseline run on the same seeds and data. "gap
closed?" is yes when jaxdl's default mean is at least as good as the original's.
Writes WORKDIR/table.md and WORKDIR/table.json, again after each row.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Sequence

import ml_collections
import numpy as np

from jaxdl import config as config_lib, data, experiments
from jaxdl.experiments.studies import STUDIES, Row, Side
from jaxdl.studies import variants as variants_lib
from jaxdl.train import workdir as wd

SIDES = ("original_choices", "default")
HEAD = ("recipe, same data", "original code", "jaxdl with the original's choices", "jaxdl default", "gap closed?")


def sklearn_mlp(seeds: int, config: ml_collections.ConfigDict) -> list[float]:
    """Test accuracy of scikit-learn's `MLPClassifier((100,), random_state=S)` fit on the config's
    training images (flattened; its first data.max_train_examples when set), for S = 0..seeds-1."""
    from sklearn.neural_network import MLPClassifier

    limit = config.data.max_train_examples or None
    train = data.load_arrays(config.data.name, "train", config.data.data_dir or None, max_examples=limit)
    test = data.load_arrays(config.data.name, "test", config.data.data_dir or None)
    flat = lambda arrays: arrays["image"].reshape(len(arrays["image"]), -1)
    return [float(MLPClassifier((100,), random_state=s).fit(flat(train), train["label"])
                  .score(flat(test), test["label"])) for s in range(seeds)]


# baseline name -> (the module it needs, the runner: (seeds, the original-choices side's config) -> values)
BASELINES: dict[str, tuple[str, Callable[[int, ml_collections.ConfigDict], list[float]]]] = {
    "sklearn_mlp": ("sklearn", sklearn_mlp),
}


def _side_sets(row: Row, side: Side, overrides: Sequence[str]) -> list[str]:
    """The side's overrides in order: the row's, the side's own, keep_best when it selects on validation,
    then the command line's (last, so `--set train.epochs=1` shortens every run)."""
    keep = ["train.keep_best=true"] if side.select == "best" else []
    return [*row.overrides, *side.overrides, *keep, *overrides]


def _configs(study: str, rows: Sequence[str] | None, seeds: int | None,
             overrides: Sequence[str]) -> tuple[list[str], dict]:
    """The rows to run and each side's config, checked before anything trains (a bad name, seed
    count or override fails here, in one line)."""
    spec = STUDIES.get_or_raise(study)
    names = list(rows) if rows else list(spec.rows)
    unknown = [n for n in names if n not in spec.rows]
    if unknown:
        raise ValueError(f"study {study!r} has no row {', '.join(map(repr, unknown))}; valid rows: "
                         f"{', '.join(spec.rows)}")
    if seeds is not None and seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    configs = {}
    for name in names:
        row = spec.rows[name]
        for label in SIDES:
            side = getattr(row, label)
            configs[name, label] = config_lib.apply_overrides(experiments.get_config(side.experiment),
                                                              _side_sets(row, side, overrides))
    return names, configs


def run(study: str, workdir: str, *, seeds: int | None = None, overrides: Sequence[str] = (),
        rows: Sequence[str] | None = None, resume: bool = False) -> dict:
    """Trains every side of `study`'s rows (or only `rows`) over seeds 0..N-1; writes and returns the table.
    With `resume`, finished runs in `workdir` are read back and an interrupted one continues."""
    names, configs = _configs(study, rows, seeds, overrides)
    spec = STUDIES.get_or_raise(study)
    n = seeds or spec.seeds
    os.makedirs(workdir, exist_ok=True)
    table = {"study": study, "description": spec.description, "seeds": n, "overrides": list(overrides), "rows": []}
    for name in names:  # the tables are rewritten after each row: a long study shows its finished rows
        table["rows"].append(_run_row(name, spec.rows[name], os.path.join(workdir, name), n, overrides,
                                      configs[name, "original_choices"], resume))
        with open(os.path.join(workdir, "table.json"), "w") as f:
            json.dump(table, f, indent=1)
        with open(os.path.join(workdir, "table.md"), "w") as f:
            f.write(markdown(table))
    return table


def _run_row(name: str, row: Row, workdir: str, seeds: int, overrides: Sequence[str],
             original_config: ml_collections.ConfigDict, resume: bool) -> dict:
    out = {"row": name, "recipe": row.recipe, "metric": row.metric, "overrides": list(row.overrides),
           "higher_is_better": row.higher_is_better, "percent": row.percent, "digits": row.digits,
           "original": _original(row, seeds, original_config)}
    for label in SIDES:
        side = getattr(row, label)
        sets = _side_sets(row, side, overrides)
        [result] = variants_lib.run_seeds(side.experiment, {label: sets}, workdir, [], seeds, resume=resume)
        runs = [_selected(r, side.select, row.metric) | {"seconds": round(r["seconds"], 1),
                                                          "workdir": os.path.join(workdir, f"seed{s}", label)}
                for s, r in enumerate(result["runs"])]
        out[label] = {"experiment": side.experiment, "overrides": list(side.overrides), "select": side.select,
                      **_stats([r["test"] for r in runs]), "runs": runs}
    out["gap_closed"] = gap_closed(out["default"]["mean"], out["original"]["mean"], row.higher_is_better,
                                   row.digits, row.percent)
    return out


def _selected(run_row: dict, select: str, metric: str) -> dict:
    """One seed's validation and test `metric`: the best-validation state's, or the final state's."""
    evals = run_row["best"] if select == "best" else run_row["final"]
    return {"seed": run_row["seed"], "validation": evals.get("validation", {}).get(metric),
            "test": evals["test"][metric], "best_epoch": run_row.get("best_epoch") if select == "best" else None}


def _original(row: Row, seeds: int, config: ml_collections.ConfigDict) -> dict:
    """The original code's numbers: its baseline run on these seeds when its library is installed, else the
    study's reference numbers."""
    reference = row.original
    if reference.baseline:
        module, runner = BASELINES[reference.baseline]
        if importlib.util.find_spec(module) is not None:
            return {"text": reference.text, "source": f"run here: {reference.baseline}", "final": reference.final,
                    **_stats(runner(seeds, config))}
    if reference.values:
        stats = _stats(list(reference.values))
    else:
        stats = {"mean": reference.mean, "sd": reference.sd, "values": []}
    return {"text": reference.text, "source": "reference numbers", "final": reference.final, **stats}


def _stats(values: list[float]) -> dict:
    """Mean and sample standard deviation (ddof 1, as the README's tables; 0 for one value)."""
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "sd": sd, "values": [float(v) for v in values]}


def _fmt(digits: int, percent: bool) -> Callable[[float], str]:
    return (lambda v: f"{100 * v:.{digits}f}") if percent else (lambda v: f"{v:.{digits}f}")


def gap_closed(default: float, original: float, higher_is_better: bool, digits: int = 2,
               percent: bool = False) -> str:
    """"yes" when jaxdl's default mean is at least as good as the original's, else "no, by" how much."""
    behind = original - default if higher_is_better else default - original
    return "yes" if behind <= 0 else f"no, by {_fmt(digits, percent)(behind)}{' points' if percent else ''}"


def _cell(stats: dict, digits: int, percent: bool, final: bool) -> str:
    """**mean ± sd** (seed / seed / ...), *final* when it is the last state's number."""
    fmt, unit = _fmt(digits, percent), "%" if percent else ""
    text = f"**{fmt(stats['mean'])}{unit}**"
    if stats["sd"] is not None and (len(stats["values"]) > 1 or not stats["values"]):
        text = f"**{fmt(stats['mean'])} ± {fmt(stats['sd'])}{unit}**"
    if len(stats["values"]) > 1:
        text += " (" + " / ".join(fmt(v) for v in stats["values"]) + ")"
    return text + (", *final*" if final else "")


def _side_text(side: dict) -> str:
    sets = " ".join(f"--set {s}" for s in side["overrides"])
    return f"`{' '.join(filter(None, [side['experiment'], sets]))}`"


def markdown(table: dict) -> str:
    """The table as markdown, ending in a newline."""
    seeds = f"{table['seeds']} seed{'s' if table['seeds'] > 1 else ''}"
    lines = [f"{table['study']}: {table['description']}. {seeds} each side; test metric mean ± sd over seeds "
             "(per seed in parentheses) of the state chosen on validation unless marked *final*.", "",
             "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for r in table["rows"]:
        shown = r["digits"], r["percent"]
        original = r["original"]
        source = f"{original['text']}, {original['source']}"
        cells = [r["recipe"], f"{source}: {_cell(original, *shown, original['final'])}",
                 *(f"{_side_text(r[s])}: {_cell(r[s], *shown, r[s]['select'] == 'final')}" for s in SIDES),
                 r["gap_closed"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def listing() -> str:
    """The registered studies, one a line, with their rows."""
    return "\n".join(f"{name}: {spec.description} (rows: {', '.join(spec.rows)}; jaxdl studies {name})"
                     for name, spec in STUDIES.items())


def report(study: str | None = None, workdir: str | None = None, *, seeds: int | None = None,
           overrides: Sequence[str] = (), rows: Sequence[str] | None = None, resume: bool = False) -> str:
    """What `jaxdl studies` prints: with no `study` the list of studies, else the trained study's table
    (or, stopped by SIGTERM, where it stopped and how to continue)."""
    if not study:
        return listing()
    if resume and not workdir:
        raise ValueError("--resume needs the --workdir of the study to continue")
    workdir = workdir or wd.default_workdir("studies", study)
    try:
        table = run(study, workdir, seeds=seeds, overrides=overrides, rows=rows, resume=resume)
    except variants_lib.Preempted as stopped:
        return variants_lib.preempted_message(study, stopped, workdir)
    return markdown(table) + f"table.md and table.json in {workdir}"
