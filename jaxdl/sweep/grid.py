"""Which config fields a sweep can vary, and the members of a grid.

Members differ only in arrays that one compiled program takes as inputs:
PRNG keys (seed), initialiser choice and scale, and the optimiser
hyperparameters injected with `optax.inject_hyperparams`. `data.batch_size`
changes shapes, so it splits a sweep into groups, one compile each.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import ml_collections

from jaxdl import config as config_lib

INIT_AXES = ("model.kernel_init", "model.init_scale", "model.bias_scale")
# Config key -> hyperparameter name in the injected optimiser state.
OPTIMIZER_AXES = {
    "optimizer.learning_rate": "learning_rate",
    "optimizer.momentum": "momentum",
    "optimizer.b1": "b1",
    "optimizer.b2": "b2",
    "optimizer.l2": "l2",
    "optimizer.weight_decay": "weight_decay",
}
GROUP_AXES = ("data.batch_size",)
SWEEPABLE = ("seed", *INIT_AXES, *OPTIMIZER_AXES, *GROUP_AXES)


def split_values(text: str) -> list[str]:
    """'0.1,0.5' -> ['0.1', '0.5'], leaving commas inside brackets alone: '(30,),(100,)'."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return parts + [current]


def parse_sets(config: ml_collections.ConfigDict, sets: Sequence[str]):
    """`--set` items -> (config with single-value overrides applied, grid of swept values).

    `key=v1,v2,...` on a sweepable key becomes an axis; anything else is a plain override.
    """
    overrides, grid = [], {}
    for item in sets:
        key, sep, text = item.partition("=")
        values = split_values(text)
        if sep and len(values) > 1:
            check_axis(config, key.strip())
            grid[key.strip()] = [v.strip() for v in values]
        else:
            overrides.append(item)
    config = config_lib.apply_overrides(config, overrides)
    typed = {}
    for key, values in grid.items():
        node, leaf = _node(config, key)
        typed[key] = [config_lib.parse_value(key, v, node[leaf]) for v in values]
    return config, typed


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


def members(config: ml_collections.ConfigDict, seeds: Sequence[int], grid: dict[str, list]) -> list[dict[str, Any]]:
    """Every combination, seeds outermost: [{"member": 0, "seed": 0, key: value, ...}, ...]."""
    for key in grid:
        check_axis(config, key)
    if "seed" in grid:
        raise ValueError("give seeds with --seeds (or seeds=), not as a grid axis")
    keys = list(grid)
    combos = itertools.product(seeds, *(grid[k] for k in keys))
    return [{"member": i, "seed": int(c[0]), **dict(zip(keys, c[1:]))} for i, c in enumerate(combos)]


def _node(config, key):
    parent, _, leaf = key.rpartition(".")
    node = config
    for part in filter(None, parent.split(".")):
        node = node[part]
    return node, leaf
