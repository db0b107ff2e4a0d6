"""Train and eval steps: one SGD step by hand, dropout keys, the scanned loop, epoch indices, padded evaluation."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import models
from jaxdl.models import gpt
from jaxdl.tasks import char_lm, classification, losses
from jaxdl.train import steps
from jaxdl.train.state import create

IMAGE = (28, 28, 1)


def _setup(dropout=0.0, lr=0.5):
    model = models.make("mlp", IMAGE, 10, hidden=(16,), activation="sigmoid", dropout=dropout)
    tx = optax.sgd(lr)
    state = create(model, tx, jax.random.key(0), jax.random.key(1))
    return model, tx, state


def _data(n, seed=0):
    k1, k2 = jax.random.split(jax.random.key(seed))
    return {"image": jax.random.uniform(k1, (n, *IMAGE)), "label": jax.random.randint(k2, (n,), 0, 10)}


def test_sgd_step_equals_hand_gradient_descent(variant):
    model, tx, state = _setup(lr=0.5)
    loss_fn = losses.make_loss("quadratic", "sigmoid")
    batch = _data(8)
    train_step = steps.make_train_step(classification.from_model(model, loss_fn), tx)
    new_state, metrics = variant(train_step)(state, batch)

    def cost(p):
        l0, l1 = p["layers"][0], p["layers"][1]
        h = jax.nn.sigmoid(batch["image"].reshape(8, -1) @ l0["kernel"] + l0["bias"][None])
        a = jax.nn.sigmoid(h @ l1["kernel"] + l1["bias"][None])
        return jnp.mean(0.5 * jnp.sum((a - jax.nn.one_hot(batch["label"], 10)) ** 2, -1))

    want = jax.tree.map(lambda w, g: w - 0.5 * g, state.params, jax.grad(cost)(state.params))
    chex.assert_trees_all_close(new_state.params, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(metrics["loss"], cost(state.params), rtol=1e-5)
    assert int(new_state.step) == 1
    chex.assert_tree_all_finite(metrics)


def test_dropout_key_comes_from_state_and_step():
    model, tx, state = _setup(dropout=0.5)
    step = jax.jit(steps.make_train_step(classification.from_model(model, losses.softmax_cross_entropy), tx))
    batch = _data(8)
    a, _ = step(state, batch)
    b, _ = step(state, batch)
    chex.assert_trees_all_equal(a.params, b.params)  # same (rng, step): same masks
    c, _ = step(state.replace(step=jnp.int32(5)), batch)
    assert not np.allclose(a.params["layers"][0]["kernel"], c.params["layers"][0]["kernel"])


def test_scanned_steps_equal_a_python_loop():
    model, tx, state = _setup(dropout=0.2)
    train_step = steps.make_train_step(classification.from_model(model, losses.softmax_cross_entropy), tx)
    data = _data(64)
    idx = steps.epoch_indices(jax.random.key(3), 1, 64, 16)
    loop_state, loop_losses = state, []
    for idx_B in idx:
        loop_state, m = jax.jit(train_step)(loop_state, jax.tree.map(lambda a: a[idx_B], data))
        loop_losses.append(m["loss"])
    scan_state, scan_metrics = steps.make_run_steps(train_step)(state, data, idx)
    chex.assert_trees_all_close(scan_state.params, loop_state.params, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scan_metrics["loss"], loop_losses, rtol=1e-5)


def test_accumulated_step_averages_microbatch_gradients_with_folded_dropout_keys(variant):
    # Microbatch i holds rows i, i+k, ... and draws its dropout from fold_in(step key, i).
    model, tx, state = _setup(dropout=0.5, lr=0.5)
    task = classification.from_model(model, losses.softmax_cross_entropy)
    batch, k = _data(16), 4
    new_state, metrics = variant(steps.make_train_step(task, tx, grad_accum_steps=k))(state, batch)

    step_key = jax.random.fold_in(state.rng, state.step)
    loss_and_grad = jax.value_and_grad(lambda p, b, key: task.loss(p, b, key=key, train=True)[0])
    pairs = [loss_and_grad(state.params, jax.tree.map(lambda a: a[i::k], batch), jax.random.fold_in(step_key, i))
             for i in range(k)]
    mean_grad = jax.tree.map(lambda *g: sum(g) / k, *[g for _, g in pairs])
    want = jax.tree.map(lambda w, g: w - 0.5 * g, state.params, mean_grad)
    chex.assert_trees_all_close(new_state.params, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(metrics["loss"], np.mean([loss for loss, _ in pairs]), rtol=1e-5)
    np.testing.assert_allclose(metrics["grad_norm"], optax.tree.norm(mean_grad), rtol=1e-5)


def test_accumulation_without_dropout_is_the_whole_batch_step():
    model = _setup()[0]
    tx = optax.adam(1e-2)
    task = classification.from_model(model, losses.softmax_cross_entropy)
    data = _data(64)
    idx = steps.epoch_indices(jax.random.key(3), 1, 64, 16)

    def run(k):  # a fresh state each time: run_steps donates it
        state = create(model, tx, jax.random.key(0), jax.random.key(1))
        return steps.make_run_steps(steps.make_train_step(task, tx, grad_accum_steps=k))(state, data, idx)

    whole, whole_m = run(1)
    accum, accum_m = run(4)
    chex.assert_trees_all_close(accum.params, whole.params, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(accum.opt_state, whole.opt_state, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(accum_m, whole_m, rtol=1e-5, atol=1e-6)


def test_accumulation_shrinks_the_compiled_step_temporaries():
    # A model whose activations outweigh its params (a GPT; an MLP's are dominated by the
    # gradient buffers, which accumulation adds one of).
    task = char_lm.from_lm(gpt.language_model(16, 64, num_layers=2, d_model=32, num_heads=2), 64)
    tx = optax.sgd(0.1)
    state = create(task.model, tx, jax.random.key(0), jax.random.key(1))
    batch = {"ids": jax.random.randint(jax.random.key(2), (32, 65), 0, 16)}

    def temp_bytes(k):
        step = jax.jit(steps.make_train_step(task, tx, grad_accum_steps=k))
        return step.lower(state, batch).compile().memory_analysis().temp_size_in_bytes

    # Measured on CPU: 30.9 MB with k=1, 7.9 MB with k=4 (a quarter of the activations at a time).
    assert temp_bytes(4) < 0.5 * temp_bytes(1)


def _grads():
    keys = jax.random.split(jax.random.key(0), 4)
    return {"kernel": jax.random.normal(keys[0], (784, 512)), "bias": jax.random.normal(keys[1], (512,)),
            "conv": jax.random.normal(keys[2], (3, 3, 32, 64)),
            "out": {"kernel": 1e-3 * jax.random.normal(keys[3], (512, 10)), "scale": jnp.float32(2.0)}}


def test_grad_norm_is_the_global_l2_norm(variant):
    grads = _grads()
    exact = np.sqrt(sum(np.sum(np.asarray(g, np.float64) ** 2) for g in jax.tree.leaves(grads)))
    norm = variant(steps.grad_norm)(grads)
    np.testing.assert_allclose(norm, exact, rtol=1e-6)
    np.testing.assert_allclose(norm, optax.tree.norm(grads), rtol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_grad_norm_is_not_finite_when_a_gradient_is_not(bad):
    grads = _grads()
    grads["kernel"] = grads["kernel"].at[700, 3].set(bad)  # in a leaf summed through the ones product
    assert not np.isfinite(jax.jit(steps.grad_norm)(grads))


def test_grad_norm_of_a_large_leaf_compiles_to_a_product_on_cpu():
    if jax.default_backend() != "cpu":
        pytest.skip("the ones-vector product is the CPU path; other backends sum directly")
    hlo = jax.jit(steps.grad_norm).lower(_grads()).compile().as_text()
    assert "f32[784,1]{1,0} dot(" in hlo  # folded back into a reduce, XLA:CPU reads it at ~6 GB/s


def test_epoch_indices_are_a_keyed_permutation():
    key = jax.random.key(0)
    idx = steps.epoch_indices(key, 1, 103, 10)
    chex.assert_shape(idx, (10, 10))
    assert len(np.unique(np.asarray(idx))) == 100  # remainder of 3 dropped, no repeats
    chex.assert_trees_all_equal(idx, steps.epoch_indices(key, 1, 103, 10))
    assert not np.array_equal(idx, steps.epoch_indices(key, 2, 103, 10))
    with pytest.raises(ValueError, match="batch_size 200 is larger than the 103"):
        steps.epoch_indices(key, 1, 103, 200)


@pytest.mark.parametrize("batch_size", [7, 50, 1000])
def test_evaluate_pads_and_masks_to_the_exact_mean(batch_size):
    model, _, state = _setup()
    loss_fn = losses.softmax_cross_entropy
    data = _data(50)
    got = steps.make_evaluate(classification.from_model(model, loss_fn), batch_size)(
        state.params, data, jax.random.key(0))
    logits = model.apply(state.params, data["image"])
    np.testing.assert_allclose(got["loss"], loss_fn(logits, data["label"]).mean(), rtol=1e-5)
    np.testing.assert_allclose(got["accuracy"], losses.correct(logits, data["label"]).mean(), rtol=1e-6)


@pytest.mark.parametrize(("n", "batch_size", "shards", "expected"),
                         [(500, 1000, 1, 500), (500, 1000, 8, 504), (2500, 1000, 1, 1000), (10, 1000, 4, 12),
                          (1000, 1000, 8, 1000), (7, 50, 1, 7)])
def test_a_split_smaller_than_the_eval_batch_is_evaluated_in_one_batch_of_its_size(n, batch_size, shards, expected):
    assert steps.eval_batch_size(n, batch_size, shards) == expected


def test_a_small_split_compiles_an_eval_batch_of_its_own_size_not_the_configured_one():
    model, _, state = _setup()
    task = classification.from_model(model, losses.softmax_cross_entropy)
    evaluate = steps.make_evaluate(task, 1000)
    hlo = evaluate.lower(state.params, _data(50), jax.random.key(0)).as_text()
    assert "50x28x28x1" in hlo and "1000x28x28x1" not in hlo
