"""quick_jit: the run's small programs compiled for compile time compute the default compile's bits."""

import chex
import jax
import numpy as np
import pytest

from jaxdl import experiments, rng, tasks
from jaxdl.train import epoch_loop, loop, optimizers, steps
from jaxdl.train.compiling import INIT, quick_jit
from jaxdl.train.state import create


def _key_data(tree):
    return jax.tree.map(lambda x: jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)
                        else x, tree)


@pytest.mark.parametrize(("experiment", "overrides"),
                         [("mnist_cnn", ["model.features=(4, 8)"]), ("transformer_copy", [])])
def test_a_quickly_compiled_initial_state_equals_the_default_compile_bit_for_bit(experiment, overrides):
    config = experiments.configure(experiment, overrides)
    task = tasks.make(config)
    tx = optimizers.make_optimizer(config.optimizer, total_steps=100)
    keys = rng.streams(config.seed)

    def make():
        return create(task.model, tx, keys["init"], keys["dropout"])

    chex.assert_trees_all_equal(_key_data(quick_jit(make, cpu_options=INIT)()), _key_data(jax.jit(make)()))


def test_the_loops_epoch_order_equals_epoch_indices():
    key = rng.streams(3)["data"]
    for epoch, n, b in ((1, 3500, 128), (2, 3500, 128), (7, 103, 10)):
        np.testing.assert_array_equal(epoch_loop._epoch_indices(key, epoch, n, b),
                                      steps.epoch_indices(key, epoch, n, b))


def test_the_runs_initial_state_takes_its_seed_as_an_argument_so_every_seed_shares_one_program():
    config = experiments.configure("mnist_cnn", ["model.features=(4, 8)"])
    task = tasks.make(config)
    tx = optimizers.make_optimizer(config.optimizer, total_steps=100)
    from_seed = jax.jit(lambda seed: loop._create_from_seed(task.model, tx, seed))
    for seed in (0, 5):
        keys = rng.streams(seed)
        expected = jax.jit(lambda k=keys: create(task.model, tx, k["init"], k["dropout"]))()
        chex.assert_trees_all_equal(_key_data(from_seed(np.int32(seed))), _key_data(expected))
    # One program for every seed: a new seed's run finds it in the persistent compilation cache.
    assert from_seed.lower(np.int32(0)).as_text() == from_seed.lower(np.int32(5)).as_text()


def test_the_runs_keys_in_one_program_equal_the_eager_streams():
    for seed in (0, 7, 2**31 - 1):
        chex.assert_trees_all_equal(_key_data(loop._run_keys(np.int32(seed))), _key_data(rng.streams(seed)))
