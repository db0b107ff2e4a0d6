"""Hand-written momentum, Nesterov and AdaGrad against optax over 100 random steps."""
import chex
import jax
import jax.numpy as jnp
import optax
import pytest

from jaxdl.train import handwritten, optimizers

N_STEPS = 100


def _params(key):
    k1, k2 = jax.random.split(key)
    return {"dense": {"kernel": jax.random.normal(k1, (4, 3)), "bias": jax.random.normal(k2, (3,))}}


def _trajectory(tx, key):
    """Updates and params after each of N_STEPS steps with fresh random gradients."""

    def step(carry, k):
        params, state = carry
        grads = jax.tree.map(lambda p, kk: jax.random.normal(kk, p.shape),
                             params, {"dense": dict(zip(("kernel", "bias"), jax.random.split(k)))})
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        return (params, state), (updates, params)

    params = _params(key)
    _, (updates, trajectory) = jax.lax.scan(
        step, (params, tx.init(params)), jax.random.split(jax.random.fold_in(key, 1), N_STEPS))
    return updates, trajectory


CASES = {
    "gd": (lambda: handwritten.gradient_descent(0.05), lambda: optax.sgd(0.05)),
    "heavy_ball": (lambda: handwritten.momentum(0.05, 0.9), lambda: optax.sgd(0.05, momentum=0.9)),
    "nesterov": (lambda: handwritten.momentum(0.05, 0.9, nesterov=True),
                 lambda: optax.sgd(0.05, momentum=0.9, nesterov=True)),
    "adagrad": (lambda: handwritten.adagrad(0.3), lambda: optax.adagrad(0.3)),
    "adagrad_zero_start": (lambda: handwritten.adagrad(0.3, initial_accumulator_value=0.0, eps=1e-7),
                           lambda: optax.adagrad(0.3, initial_accumulator_value=0.0, eps=1e-7)),
}


@pytest.mark.parametrize("name", CASES)
def test_handwritten_matches_optax_over_100_random_steps(name):
    ours, theirs = CASES[name]
    key = jax.random.key(7)
    our_updates, our_params = _trajectory(ours(), key)
    ref_updates, ref_params = _trajectory(theirs(), key)
    chex.assert_tree_all_finite(our_params)
    chex.assert_trees_all_close(our_updates, ref_updates, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(our_params, ref_params, rtol=1e-5, atol=1e-5)


def test_momentum_differs_from_gradient_descent():
    """Guards the comparison above: the momentum term changes the trajectory."""
    key = jax.random.key(7)
    gd, _ = _trajectory(handwritten.gradient_descent(0.05), key)
    hb, _ = _trajectory(handwritten.momentum(0.05, 0.9), key)
    chex.assert_trees_all_close(jax.tree.map(lambda u: u[0], gd), jax.tree.map(lambda u: u[0], hb))
    assert not jnp.allclose(gd["dense"]["kernel"][5], hb["dense"]["kernel"][5])


@pytest.mark.parametrize("scratch, library", [
    ("sgd_scratch", "sgd"), ("momentum_scratch", "momentum"),
    ("nesterov_scratch", "nesterov"), ("adagrad_scratch", "adagrad")])
def test_scratch_names_in_config_train_like_optax(scratch, library):
    """`optimizer.name=*_scratch` builds the same chain (L2, schedule, injected rate) as optax's."""

    def build(name):
        cfg = optimizers.default_optimizer_config()
        cfg.update(name=name, learning_rate=0.05, l2=1e-3)
        cfg.schedule.update(name="cosine")
        return optimizers.make_optimizer(cfg, total_steps=N_STEPS)

    key = jax.random.key(3)
    ours, ours_params = _trajectory(build(scratch), key)
    ref, ref_params = _trajectory(build(library), key)
    chex.assert_trees_all_close(ours, ref, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(ours_params, ref_params, rtol=1e-5, atol=1e-5)
    # The learning rate stays an injected hyperparameter (the plateau rule and sweeps set it).
    state = build(scratch).init(_params(key))
    assert float(optimizers.get_learning_rate(optimizers.set_learning_rate(state, 0.5))) == 0.5
