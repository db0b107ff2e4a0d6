"""The transformer seq2seq task: loss and eval sums on copy batches; datasets without sequence pairs refused."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.data import copy_task
from jaxdl.experiments import get_config
from jaxdl.tasks import transformer_seq2seq


def test_task_loss_and_eval_sums_on_copy_batches():
    config = get_config("transformer_copy")
    config.model.update(num_layers=1, d_model=32, d_ff=64, num_heads=2)
    task = transformer_seq2seq.make(config)
    params = task.model.init(jax.random.key(0))
    batch = {k: jnp.asarray(v) for k, v in copy_task.make_examples(8, seed=3).items()}
    loss, metrics = jax.jit(lambda p, b, k: task.loss(p, b, key=k, train=True))(params, batch, jax.random.key(1))
    assert np.isfinite(float(loss)) and 0.0 <= float(metrics["token_accuracy"]) <= 1.0
    mask = jnp.array([1.0] * 6 + [0.0] * 2)
    sums = jax.jit(lambda p, b, m: task.eval_sums(p, b, m, key=None))(params, batch, mask)
    tokens = float(((batch["target"][:, 1:] != 0) * mask[:, None]).sum())
    assert float(sums["count"]) == 6.0 and float(sums["tokens"]) == tokens
    summary = task.summarize(sums)
    assert 0.0 <= float(summary["exact_match"]) <= 1.0


def test_task_rejects_a_dataset_without_sequence_pairs():
    config = get_config("transformer_copy")
    config.data.name = "mnist5k"
    with pytest.raises(ValueError, match="needs a sequence-pair dataset"):
        transformer_seq2seq.make(config)
