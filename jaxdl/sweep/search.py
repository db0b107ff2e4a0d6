"""Random and quasi-random search: per-key distributions sampled into sweep members.

`--set optimizer.learning_rate=loguniform(1e-4,1e-1)` gives a key a distribution instead of
a list of values; `--samples N` draws N points of the joint space, each point a set of
values a member trains with. Points come from one `(N, keys)` array of unit numbers, from
`numpy`'s generator (`random`) or a scrambled Sobol or Halton sequence (`scipy.stats.qmc`),
seeded by the search seed, then mapped through each key's distribution (dimensions in the
order the keys were given). The points are drawn before members are chunked, so they depend
only on the space, N, the method and the seed.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from typing import Any

import numpy as np
from scipy.stats import qmc

from jaxdl import config as config_lib

DISTRIBUTIONS = ("uniform", "loguniform", "intuniform", "choice")
METHODS = ("random", "sobol", "halton")
_PATTERN = re.compile(r"^\s*(\w+)\((.*)\)\s*$", re.DOTALL)


@dataclasses.dataclass(frozen=True)
class Distribution:
    kind: str  # one of DISTRIBUTIONS
    args: tuple  # (low, high) for the ranges (both ends included for intuniform); the options for choice

    def __str__(self) -> str:
        return f"{self.kind}({','.join(str(a) for a in self.args)})"

    def map(self, u: np.ndarray) -> list:
        """Unit numbers in [0, 1) -> values of this distribution (plain Python numbers or options)."""
        if self.kind == "uniform":
            lo, hi = self.args
            return [float(lo + x * (hi - lo)) for x in u]
        if self.kind == "loguniform":
            lo, hi = (math.log(a) for a in self.args)
            return [float(math.exp(lo + x * (hi - lo))) for x in u]
        if self.kind == "intuniform":
            lo, hi = self.args
            return [int(lo + min(int(x * (hi - lo + 1)), hi - lo)) for x in u]
        k = len(self.args)
        return [self.args[min(int(x * k), k - 1)] for x in u]


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


def is_distribution(text: str) -> bool:
    """Whether a `--set` value names a distribution, e.g. 'uniform(0.5,2)' (not a tuple like '(30,)')."""
    match = _PATTERN.match(text)
    return bool(match) and match.group(1) in DISTRIBUTIONS


def parse(key: str, text: str, current: Any) -> Distribution:
    """'loguniform(1e-4,1e-1)' -> Distribution; `current` (the config's value) types choice options."""
    match = _PATTERN.match(text)
    if not match or match.group(1) not in DISTRIBUTIONS:
        raise ValueError(f"{key}={text}: not a distribution; valid: {', '.join(d + '(...)' for d in DISTRIBUTIONS)}")
    kind, parts = match.group(1), [p.strip() for p in split_values(match.group(2))]
    if kind == "choice":
        if not all(parts):
            raise ValueError(f"{key}={text}: choice needs one or more comma-separated options")
        return Distribution(kind, tuple(config_lib.parse_value(key, p, current) for p in parts))
    if len(parts) != 2:
        raise ValueError(f"{key}={text}: {kind} takes two bounds, {kind}(low,high)")
    try:
        lo, hi = (int(p) if kind == "intuniform" else float(p) for p in parts)
    except ValueError:
        raise ValueError(f"{key}={text}: {kind} bounds must be {'integers' if kind == 'intuniform' else 'numbers'}"
                         ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi) or (kind != "intuniform" and lo == hi):
        raise ValueError(f"{key}={text}: need finite bounds with low < high")
    if kind == "loguniform" and lo <= 0:
        raise ValueError(f"{key}={text}: loguniform needs 0 < low < high")
    if kind != "choice" and isinstance(current, (bool, str, tuple, list)):
        raise ValueError(f"{key}={text}: {key} is not a number; use choice(...)")
    if kind == "intuniform" and isinstance(current, float):
        raise ValueError(f"{key}={text}: {key} is a float; use uniform or loguniform")
    if kind != "intuniform" and isinstance(current, int):
        raise ValueError(f"{key}={text}: {key} is an integer; use intuniform or choice")
    return Distribution(kind, (lo, hi))


def unit_points(n: int, dims: int, method: str, seed: int) -> np.ndarray:
    """(n, dims) numbers in [0, 1): independent uniforms, or a scrambled low-discrepancy sequence."""
    if method not in METHODS:
        raise ValueError(f"unknown search '{method}'; valid: {', '.join(METHODS)}")
    if n < 1:
        raise ValueError(f"--samples must be >= 1, got {n}")
    if method == "random":
        return np.random.default_rng(seed).random((n, dims))
    engine = (qmc.Sobol if method == "sobol" else qmc.Halton)(d=dims, scramble=True, seed=seed)
    with warnings.catch_warnings():
        # Sobol's balance is exact only at powers of two; any n still covers the space evenly.
        warnings.simplefilter("ignore", UserWarning)
        return engine.random(n)


def sample(space: dict[str, Distribution], n: int, method: str = "random", seed: int = 0) -> list[dict[str, Any]]:
    """N points of `space`: [{key: value, ...}, ...], the same for the same space, n, method and seed."""
    keys = list(space)
    u = unit_points(n, len(keys), method, seed)
    columns = [space[k].map(u[:, j]) for j, k in enumerate(keys)]
    return [dict(zip(keys, values)) for values in zip(*columns)]
