"""Which config fields a sweep can vary, and the members of a grid (or a search).

Members differ only in arrays that one compiled program takes as inputs:
PRNG keys (seed), initialiser choice and scale, and the optimiser
hyperparameters injected with `optax.inject_hyperparams` (clipping thresholds and
the warmup length included, injected only when swept). `data.batch_size`
changes shapes, so it splits a sweep into groups, one compile each.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import ml_collections

from jaxdl import config as config_lib
from jaxdl.sweep import search
from jaxdl.sweep.search import split_values

INIT_AXES = ("model.kernel_init", "model.init_scale", "model.bias_scale")
# Config key -> hyperparameter name in the injected optimiser state.
OPTIMIZER_AXES = {
    "optimizer.learning_rate": "learning_rate",
    "optimizer.momentum": "momentum",
    "optimizer.b1": "b1",
    "optimizer.b2": "b2",
    "optimizer.l2": "l2",
    "optimizer.weight_decay": "weight_decay",
    "optimizer.clip_norm": "clip_norm",
    "optimizer.clip_value": "clip_value",
    "optimizer.schedule.warmup_steps": "warmup_steps",
}
# Schedules whose warmup can be a traced value (`schedules.traced_warmup`).
WARMUP_SCHEDULES = ("constant", "plateau", "step", "exponential")
GROUP_AXES = ("data.batch_size",)
SWEEPABLE = ("seed", *INIT_AXES, *OPTIMIZER_AXES, *GROUP_AXES)


def parse_sets(config: ml_collections.ConfigDict, sets: Sequence[str]):
    """`--set` items -> (config with single-value overrides applied, grid of swept values).

    `key=v1,v2,...` on a sweepable key becomes an axis; anything else is a plain override.
    """
    config, grid, space = parse_search_sets(config, sets)
    if space:
        raise ValueError(f"{', '.join(space)}: distributions need a search (--samples N, or samples=)")
    return config, grid


def parse_search_sets(config: ml_collections.ConfigDict, sets: Sequence[str]):
    """As `parse_sets`, plus `key=uniform(lo,hi)` (any of `search.DISTRIBUTIONS`) into a search space:
    returns (config, grid, space)."""
    overrides, grid, space = [], {}, {}
    for item in sets:
        key, sep, text = item.partition("=")
        key = key.strip()
        values = split_values(text)
        if sep and search.is_distribution(text):
            check_axis(config, key)
            space[key] = text.strip()
        elif sep and len(values) > 1:
            check_axis(config, key)
            grid[key] = [v.strip() for v in values]
        else:
            overrides.append(item)
    config = config_lib.apply_overrides(config, overrides)
    typed = {}
    for key, values in grid.items():
        node, leaf = _node(config, key)
        typed[key] = [config_lib.parse_value(key, v, node[leaf]) for v in values]
    return config, typed, parse_space(config, space)


def parse_space(config: ml_collections.ConfigDict, space: dict) -> dict[str, search.Distribution]:
    """{key: 'loguniform(1e-4,1e-1)' or a Distribution} -> {key: Distribution}, keys checked."""
    parsed = {}
    for key, dist in space.items():
        check_axis(config, key)
        if key in ("seed", *GROUP_AXES):
            raise ValueError(f"{key} cannot be searched; give it as a list of values")
        if not isinstance(dist, search.Distribution):
            node, leaf = _node(config, key)
            dist = search.parse(key, str(dist), node[leaf])
        parsed[key] = dist
    return parsed


def check_axis(config: ml_collections.ConfigDict, key: str) -> None:
    if key not in SWEEPABLE:
        raise ValueError(
            f"'{key}' cannot be swept inside one compiled program; sweepable keys: {', '.join(SWEEPABLE)}"
        )
    if key != "seed" and key not in config_lib.flat_keys(config):
        raise ValueError(f"'{key}' is not a field of the {config.experiment} config")
    if key in ("optimizer.momentum",) and config.optimizer.name not in ("momentum", "nesterov"):
        raise ValueError(f"sweeping {key} needs optimizer.name=momentum or nesterov")
    if key in ("optimizer.b1", "optimizer.b2") and config.optimizer.name not in ("adam", "adamw"):
        raise ValueError(f"sweeping {key} needs optimizer.name=adam or adamw")
    if key == "optimizer.weight_decay" and config.optimizer.name != "adamw":
        raise ValueError(f"sweeping {key} needs optimizer.name=adamw (or sweep optimizer.l2)")
    if key == "optimizer.schedule.warmup_steps" and config.optimizer.schedule.name not in WARMUP_SCHEDULES:
        raise ValueError(f"sweeping {key} needs optimizer.schedule.name in {', '.join(WARMUP_SCHEDULES)}")


def members(config: ml_collections.ConfigDict, seeds: Sequence[int], grid: dict[str, list],
            space: dict | None = None, samples: int = 0, method: str = "random",
            search_seed: int | None = None) -> list[dict[str, Any]]:
    """Every combination, seeds outermost: [{"member": 0, "seed": 0, key: value, ...}, ...].

    With a search `space` ({key: distribution}), `samples` points drawn with `method` from
    `search_seed` (default `config.seed`) are crossed with the seeds and the grid; each member
    then has a `sample` column (its point's index) and the point's values.
    """
    for key in grid:
        check_axis(config, key)
    if "seed" in grid:
        raise ValueError("give seeds with --seeds (or seeds=), not as a grid axis")
    space = parse_space(config, space or {})
    if both := set(space) & set(grid):
        raise ValueError(f"{', '.join(sorted(both))}: both a grid axis and a distribution")
    if space and samples < 1:
        raise ValueError(f"{', '.join(space)}: distributions need --samples N (N >= 1)")
    if samples and not space:
        raise ValueError("--samples needs a distribution, e.g. --set optimizer.learning_rate=loguniform(1e-4,1e-1)")
    seed = config.seed if search_seed is None else search_seed
    points = ([{"sample": i, **p} for i, p in enumerate(search.sample(space, samples, method, seed))]
              if space else [{}])
    for key, values in [*grid.items(), *((k, [p[k] for p in points]) for k in space)]:
        # A single run refuses these too; a member must not quietly read a negative threshold as "off".
        if (key in OPTIMIZER_AXES or key in INIT_AXES[1:]) and min(values) < 0:
            raise ValueError(f"{key} must be >= 0 for every member, got {min(values)}")
    keys = list(grid)
    combos = itertools.product(seeds, points, *(grid[k] for k in keys))
    return [{"member": i, "seed": int(c[0]), **c[1], **dict(zip(keys, c[2:]))} for i, c in enumerate(combos)]


def _node(config, key):
    parent, _, leaf = key.rpartition(".")
    node = config
    for part in filter(None, parent.split(".")):
        node = node[part]
    return node, leaf
