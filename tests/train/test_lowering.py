"""Every experiment's train step lowers for cuda and tpu on this CPU-only machine (jax.export).

Lowering for a platform needs no device of that kind, so platform-specific lowering errors
(an op without a TPU or GPU lowering, a dtype a platform refuses) show up here, without a GPU
or TPU. The step is the one every run compiles (`make_train_step` on the experiment's task and
optimiser), on abstract inputs: the state from `jax.eval_shape`, the batch from one row of the
experiment's data at its configured batch size.

Attention: `attention.fast_is_library` is forced true, so the models take the path a GPU picks,
`jax.nn.dot_product_attention(implementation=None)`. In jax 0.10 that is its XLA path on every
platform; cuDNN attention (`implementation="cudnn"`) cannot be lowered without a GPU ("cuDNN is
not detected"), so it is checked on a GPU instead (tests/models/test_attention_gpu.py).
"""

import jax
import pytest

from jaxdl import data, experiments, rng, tasks
from jaxdl.models import attention
from jaxdl.registry import load_plugins
from jaxdl.train import optimizers, steps
from jaxdl.train.state import create
from tests.helpers import experiment_config_or_skip

load_plugins()  # installed plugins' experiments are experiments too


@pytest.mark.slow  # ~2.5 min for all of them on 2 CPU cores, most of it building their datasets
@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_train_step_lowers_for_cuda_and_tpu(name, data_dir, monkeypatch):
    monkeypatch.setattr(attention, "fast_is_library", lambda: True)
    _assert_lowers(experiment_config_or_skip(data_dir, name))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gpt_char_tiny", "mnist_cnn", "char_lstm"])
def test_bf16_accumulating_ema_step_lowers_for_cuda_and_tpu(name, data_dir, monkeypatch):
    """The step's options as a GPU run would set them: bf16 operands into cuDNN-path attention,
    convolutions and recurrent scans, microbatches, the EMA in the optimiser state."""
    monkeypatch.setattr(attention, "fast_is_library", lambda: True)
    _assert_lowers(experiment_config_or_skip(data_dir, name, "train.precision=bfloat16",
                                             "train.grad_accum_steps=2", "train.ema_decay=0.999"))


def _assert_lowers(config):
    task = tasks.make(config)
    # Any total past the warmup gives the optimiser state's structure.
    tx = optimizers.make_optimizer(config.optimizer, total_steps=config.optimizer.schedule.warmup_steps + 10,
                                   ema_decay=config.train.ema_decay)
    keys = rng.streams(config.seed)
    state = jax.eval_shape(lambda: create(task.model, tx, keys["init"], keys["dropout"]))
    batch_size = config.data.batch_size
    row = data.load_arrays(config.data.name, "train", data_dir=config.data.data_dir or None, max_examples=1)
    batch = jax.tree.map(lambda a: jax.ShapeDtypeStruct((batch_size, *a.shape[1:]), a.dtype), row)

    step = steps.make_train_step(task, tx, **steps.step_options(config.train))
    exported = jax.export.export(jax.jit(step), platforms=("cuda", "tpu"))(state, batch)

    assert exported.platforms == ("cuda", "tpu")
    # The new state has the old one's shapes and dtypes (a step scans and resumes on either platform).
    new_state_avals = exported.out_avals[:len(jax.tree.leaves(state))]
    assert [(a.shape, a.dtype) for a in new_state_avals] == [(a.shape, a.dtype) for a in jax.tree.leaves(state)]
