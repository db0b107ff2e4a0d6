"""vmap-parallel sweeps: many seeds, initialisations and learning rates in one compiled program.

    from jaxdl import experiments, sweep
    result = sweep.run(experiments.get_config("mnist_mlp"), seeds=8,
                       grid={"optimizer.learning_rate": [0.01, 0.1], "model.init_scale": [0.1, 1.0]})
    result.rows      # one dict per member: seed, swept values, final and best metrics, diverged
    search = sweep.run(config, seeds=2, samples=64, search="sobol",
                       space={"optimizer.learning_rate": "loguniform(1e-4,1e-1)"})

Building blocks: `runner.Group.init_member` (a member's TrainState from its seed and
hyperparameters, vmappable) and `jaxdl.train.steps.scan_steps` (an epoch, vmappable).
"""

from jaxdl.sweep.grid import SWEEPABLE, members, parse_search_sets, parse_sets
from jaxdl.sweep.halving import Halving
from jaxdl.sweep.results import SweepResult
from jaxdl.sweep.runner import DATA_ORDERS, run
from jaxdl.sweep.search import DISTRIBUTIONS, METHODS as SEARCHES

__all__ = ["DATA_ORDERS", "DISTRIBUTIONS", "SEARCHES", "SWEEPABLE", "Halving", "SweepResult", "members",
           "parse_search_sets", "parse_sets", "run"]
