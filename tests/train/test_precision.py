"""`train.precision`: the shared step's mixed-precision policy, for every model family."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import parallel, rng, tasks
from jaxdl.train import feeds, optimizers, precision, steps
from jaxdl.train.state import create
from tests.helpers import experiment_config_or_skip

NUM_STEPS = 8
# (experiment, shrinking overrides, tolerance on |bf16 - f32| of the loss after NUM_STEPS steps).
# Measured on CPU: 2.1e-4 (mlp, loss 2.24 -> 1.91), 5.0e-4 (cnn, 2.33 -> 2.19), 2.9e-4 (lstm,
# 4.50 -> 4.11), 3.5e-4 (rnn, 4.67 -> 4.49), 2.6e-4 (gpt, 4.48 -> 3.88): the tolerances are ~10x
# that, far below what the runs learned in those steps.
FAMILIES = {
    "mlp": ("mnist_mlp", ["data.batch_size=32"], 3e-3),
    "cnn": ("mnist_cnn", ["data.batch_size=16", "model.features=(8,16)"], 5e-3),
    "lstm": ("char_lstm", ["data.batch_size=4", "model.hidden=64", "lm.seq_len=64"], 3e-3),
    "rnn": ("char_rnn", ["data.batch_size=4", "model.hidden=64", "lm.seq_len=64"], 3e-3),
    "gpt": ("gpt_char_tiny", ["data.batch_size=2", "model.num_layers=2", "model.d_model=32", "model.num_heads=2",
                              "lm.seq_len=64", "optimizer.schedule.warmup_steps=0"], 3e-3),
}


def _train(config, policy: str):
    """NUM_STEPS jitted steps of `config` under `policy` from the seed's state: (state, losses, jaxpr text)."""
    task = tasks.make(config)
    feed = feeds.make_feed(config, parallel.make_mesh(1))
    tx = optimizers.make_optimizer(config.optimizer, total_steps=100)
    keys = rng.streams(config.seed)
    state = create(task.model, tx, keys["init"], keys["dropout"])
    step = steps.make_train_step(task, tx, precision=policy)
    idx = steps.epoch_indices(keys["data"], 1, feed.num_train, config.data.batch_size)
    jaxpr = str(jax.make_jaxpr(step)(state, feed.batch("train", idx[0])))
    step = jax.jit(step)
    losses = []
    for i in range(NUM_STEPS):
        state, metrics = step(state, feed.batch("train", idx[i]))
        losses.append(float(metrics["loss"]))
    return state, np.array(losses), jaxpr


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_bfloat16_trains_like_float32_with_float32_state(data_dir, family):
    name, overrides, tol = FAMILIES[family]
    config = experiment_config_or_skip(data_dir, name, *overrides)
    f32, f32_losses, f32_jaxpr = _train(config, "float32")
    bf16, bf16_losses, bf16_jaxpr = _train(config, "bfloat16")
    # The policy reached the model: its matmuls or convolutions run on bf16 operands.
    assert "bf16" in bf16_jaxpr and "bf16" not in f32_jaxpr
    assert not np.array_equal(bf16_losses, f32_losses)
    np.testing.assert_allclose(bf16_losses[-1], f32_losses[-1], atol=tol)
    # Master params and the optimiser state stay float32 (and close to float32 training's).
    for leaf in jax.tree.leaves((bf16.params, bf16.opt_state)):
        assert not jnp.issubdtype(leaf.dtype, jnp.floating) or leaf.dtype == jnp.float32
    chex.assert_trees_all_equal_structs(bf16, f32)


def test_cast_floats_leaves_integers_alone():
    batch = {"image": jnp.ones((2, 3)), "label": jnp.arange(2), "mask": jnp.array([True, False])}
    cast = precision.cast_floats(batch, jnp.bfloat16)
    assert (cast["image"].dtype, cast["label"].dtype, cast["mask"].dtype) == (jnp.bfloat16, jnp.int32, jnp.bool_)
    chex.assert_trees_all_equal(cast["label"], batch["label"])


def test_float32_policy_is_the_unchanged_loss():
    def loss(params, batch, *, key, train):
        return params, {}

    assert precision.compute_loss(loss, "float32") is loss
    with pytest.raises(ValueError, match="valid: float32, bfloat16"):
        precision.compute_loss(loss, "float16")
