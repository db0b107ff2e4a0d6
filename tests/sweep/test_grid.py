"""Sweep grids: --set values parsed into axes; keys that cannot be swept in one program are named."""

import pytest

from jaxdl import experiments, sweep
from jaxdl.sweep import grid as grid_lib


def test_grid_parsing_and_bad_axes():
    config = experiments.get_config("mnist_mlp")
    assert grid_lib.split_values("(30,),(100,)") == ["(30,)", "(100,)"]
    new, grid = sweep.parse_sets(config, ["optimizer.learning_rate=0.1,1", "model.hidden=(30,)", "seed=4"])
    assert grid == {"optimizer.learning_rate": [0.1, 1.0]} and new.model.hidden == (30,) and new.seed == 4
    with pytest.raises(ValueError, match="'model.hidden' cannot be swept inside one compiled program; "
                                         "sweepable keys: seed, model.kernel_init"):
        sweep.parse_sets(config, ["model.hidden=(30,),(100,)"])
    with pytest.raises(ValueError, match="sweeping optimizer.momentum needs optimizer.name=momentum"):
        sweep.parse_sets(config, ["optimizer.momentum=0.5,0.9"])
    with pytest.raises(ValueError, match="give seeds with --seeds"):
        sweep.members(config, [0], {"seed": [1, 2]})
