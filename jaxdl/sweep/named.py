"""`jaxdl sweep NAME`: a named sweep (`jaxdl.experiments.sweeps`) or any experiment, with `--set` axes."""

from __future__ import annotations

from collections.abc import Sequence

from jaxdl import config as config_lib, experiments, parallel
from jaxdl.experiments.sweeps import SWEEPS
from jaxdl.sweep import grid as grid_lib, halving as halving_lib, runner
from jaxdl.train import workdir as wd


def report(name: str, overrides: Sequence[str] = (), *, seeds: int = 0, workdir: str | None = None,
           chunk_size: int = 0, data_order: str = "per_seed", num_devices: int = 0, samples: int = 0,
           search: str = "random", search_seed: int | None = None, resume: bool = False,
           halving: halving_lib.Halving | None = None) -> str:
    """Trains the sweep `name` (its grid, plus `key=v1,v2` axes and `key=loguniform(lo,hi)`-style
    distributions, searched at `samples` points, from `overrides`), with successive `halving` if
    given; returns a summary line."""
    spec = SWEEPS.get(name) if name in SWEEPS else None
    if spec is not None:
        config = config_lib.apply_overrides(experiments.get_config(spec.experiment), spec.overrides)
        config.experiment = name
    else:
        try:
            config = experiments.get_config(name)
        except ValueError as e:
            raise ValueError(f"{e}; sweeps: {', '.join(SWEEPS)}") from None
    config, axes, space = grid_lib.parse_search_sets(config, overrides)
    axes = {**(spec.grid if spec else {}), **axes}
    seeds = seeds or (spec.seeds if spec else 1)
    # Every member is drawn and checked before the workdir is made or anything compiles.
    grid_lib.members(config, [0], axes, space, samples, search, search_seed)
    if resume and not workdir:
        raise ValueError("--resume needs the --workdir of the sweep to continue")
    workdir = workdir or wd.default_workdir("sweeps", name)
    parallel.start(config.train.get("cpu_devices", 0))
    if parallel.is_lead():
        drawn = ", ".join(f"{k}~{d}" for k, d in space.items())
        searched = f" x {samples} {search} samples of {drawn}" if space else ""
        print(f"{name}: {seeds} seeds x {axes or 'no grid'}{searched} -> {workdir}", flush=True)
    result = runner.run(config, seeds=seeds, grid=axes, workdir=workdir, chunk_size=chunk_size,
                        data_order=data_order, num_devices=num_devices, samples=samples, space=space,
                        search=search, search_seed=search_seed, resume=resume, halving=halving)
    if result.preempted:
        return (f"{name}: preempted after {len(result.rows)} members; finished chunks' rows in {workdir}, "
                f"the current chunk's checkpoint in {workdir}/checkpoints; continue with --resume")
    diverged = sum(r["diverged"] for r in result.rows)
    finished = "" if halving is None else f", {sum(r['stopped_reason'] == 'finished' for r in result.rows)} finished"
    return (f"{name}: {len(result.rows)} members ({diverged} diverged{finished}), "
            f"{result.member_steps:,} member-steps, "
            f"{result.member_steps / result.seconds:,.0f} model-steps/s, {result.seconds:.1f}s; "
            f"results.csv, results.jsonl, curves.jsonl and plots in {workdir}")
