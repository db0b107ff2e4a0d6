"""Named sweeps: an experiment, the axes to sweep and how many seeds."""

from __future__ import annotations

import dataclasses
from typing import Any

from jaxdl.registry import Registry


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    experiment: str
    description: str
    seeds: int
    grid: dict[str, list[Any]]
    overrides: tuple[str, ...] = ()


SWEEPS: Registry[SweepSpec] = Registry("sweep")
register_sweep = SWEEPS.register

for _name, _spec in {
    "nielsen_init": SweepSpec(
        "nielsen_ch3",
        "Nielsen ch.3 weight init: N(0,1) vs N(0,1/n_in) weights, 8 seeds, 30 epochs",
        seeds=8,
        grid={"model.kernel_init": ["normal", "scaled_normal"]},
    ),
    "nielsen_grid": SweepSpec(
        "nielsen_ch1",
        "Nielsen ch.1/3 grid search: mini-batch size x learning rate, 3 seeds, 10 epochs",
        seeds=3,
        grid={"data.batch_size": [10, 50, 100], "optimizer.learning_rate": [0.3, 1.0, 3.0, 10.0]},
        overrides=("train.epochs=10",),
    ),
    # The char-RNN init study (sd=0.001 does not train, sd=1.0 is too far, identity W works)
    # joins here once the recurrent models land: its grid is
    # {"model.recurrent_init": ["normal", "identity"], "model.init_scale": [0.001, 0.01, 1.0]}.
}.items():
    register_sweep(_name, _spec)
