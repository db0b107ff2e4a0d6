"""Optimisers, penalties, clipping and scheduled updates against update equations done by hand in numpy."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.train import optimizers as opt_lib
from tests.helpers import SCHEDULE_CASES

RTOL, ATOL = 1e-6, 1e-8

PARAMS = {
    "kernel": np.array([[0.5, -1.2, 0.3], [2.0, -0.7, 1.1]]),
    "bias": np.array([0.1, -0.4, 0.25]),
}
# Different gradients at every step; step 1 has a large global norm for the clipping tests.
GRADS = [
    {"kernel": np.array([[0.2, -0.1, 0.4], [-0.3, 0.05, 0.6]]), "bias": np.array([0.1, -0.2, 0.3])},
    {"kernel": np.array([[-0.5, 0.8, -0.2], [0.9, -0.4, 0.1]]), "bias": np.array([-0.6, 0.7, 0.2])},
    {"kernel": np.array([[0.3, 0.2, -0.7], [0.1, -0.6, 0.4]]), "bias": np.array([0.05, -0.15, -0.35])},
    {"kernel": np.array([[-0.1, 0.4, 0.3], [-0.2, 0.5, -0.3]]), "bias": np.array([0.2, 0.1, -0.1])},
    {"kernel": np.array([[0.6, -0.3, 0.1], [0.4, 0.2, -0.5]]), "bias": np.array([-0.3, 0.4, 0.0])},
]


def _f32(tree):
    return jax.tree.map(lambda x: jnp.asarray(x, jnp.float32), tree)


def _config(name="sgd", **overrides):
    cfg = opt_lib.default_optimizer_config()
    cfg.name = name
    cfg.learning_rate = 0.05
    schedule = overrides.pop("schedule", {})
    cfg.update(overrides)
    cfg.schedule.update(schedule)
    return cfg


def _run(update, opt, n_steps):
    """Applies `n_steps` updates with GRADS; returns the list of update pytrees (numpy)."""
    params, state, out = _f32(PARAMS), opt.init(_f32(PARAMS)), []
    for g in GRADS[:n_steps]:
        updates, state = update(_f32(g), state, params)
        params = optax.apply_updates(params, updates)
        out.append(jax.tree.map(np.asarray, updates))
    return out


def _reference(direction, n_steps, lr=0.05, factor=lambda t: 1.0):
    """Hand-computed updates: u_t = -lr * factor(t) * direction(t, g_t, w_t), w_{t+1} = w_t + u_t.

    `direction` is called per leaf and keeps its own running state (closures).
    """
    w, out = {k: v.copy() for k, v in PARAMS.items()}, []
    for t in range(n_steps):
        d = direction(t, GRADS[t], w)
        u = {k: -lr * factor(t) * d[k] for k in w}
        w = {k: w[k] + u[k] for k in w}
        out.append(u)
    return out


def _assert_updates(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        for k in e:
            np.testing.assert_allclose(a[k], e[k], rtol=RTOL, atol=ATOL, err_msg=k)


# --- Update equations, written out per optimiser. Each returns direction(t, g, w). ---


def sgd_eq():
    return lambda t, g, w: g


def momentum_eq(mu, nesterov):
    v = {k: np.zeros_like(p) for k, p in PARAMS.items()}

    def direction(t, g, w):
        for k in g:
            v[k] = mu * v[k] + g[k]  # velocity accumulates raw gradients
        # Nesterov looks ahead: g + mu * v_new.
        return {k: g[k] + mu * v[k] for k in g} if nesterov else {k: v[k].copy() for k in g}

    return direction


def adagrad_eq(init_acc, eps):
    acc = {k: np.full_like(p, init_acc) for k, p in PARAMS.items()}

    def direction(t, g, w):
        for k in g:
            acc[k] = acc[k] + g[k] ** 2
        return {k: g[k] / np.sqrt(acc[k] + eps) for k in g}

    return direction


def adam_eq(b1, b2, eps, weight_decay=0.0):
    m = {k: np.zeros_like(p) for k, p in PARAMS.items()}
    v = {k: np.zeros_like(p) for k, p in PARAMS.items()}

    def direction(t, g, w):
        d = {}
        for k in g:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            m_hat = m[k] / (1 - b1 ** (t + 1))
            v_hat = v[k] / (1 - b2 ** (t + 1))
            d[k] = m_hat / (np.sqrt(v_hat) + eps)
            if w[k].ndim >= 2:  # decoupled decay on weights only, scaled by lr like optax.adamw
                d[k] = d[k] + weight_decay * w[k]
        return d

    return direction


OPTIMIZER_CASES = {
    "sgd": ({}, sgd_eq),
    "momentum": (dict(momentum=0.8), lambda: momentum_eq(0.8, nesterov=False)),
    "nesterov": (dict(momentum=0.8), lambda: momentum_eq(0.8, nesterov=True)),
    "adagrad": (
        dict(initial_accumulator_value=0.2, adagrad_eps=1e-3),
        lambda: adagrad_eq(0.2, 1e-3),
    ),
    "adam": (dict(b1=0.8, b2=0.95, eps=1e-3), lambda: adam_eq(0.8, 0.95, 1e-3)),
    "adamw": (
        dict(b1=0.8, b2=0.95, eps=1e-3, weight_decay=0.3),
        lambda: adam_eq(0.8, 0.95, 1e-3, weight_decay=0.3),
    ),
}


@pytest.mark.parametrize("name", OPTIMIZER_CASES)
def test_optimizer_matches_equations(variant, name):
    overrides, equation = OPTIMIZER_CASES[name]
    opt = opt_lib.make_optimizer(_config(name, **overrides), total_steps=10)
    _assert_updates(_run(variant(opt.update), opt, 3), _reference(equation(), 3))


@pytest.mark.parametrize(
    "overrides, penalised",
    [(dict(l2=0.4), lambda g, w: g + 0.4 * w), (dict(l1=0.4), lambda g, w: g + 0.4 * np.sign(w))],
    ids=["l2", "l1"],
)
def test_penalty_adds_its_gradient_to_weights_only(variant, overrides, penalised):
    opt = opt_lib.make_optimizer(_config("sgd", **overrides), total_steps=10)

    def direction(t, g, w):
        return {k: penalised(g[k], w[k]) if w[k].ndim >= 2 else g[k] for k in g}

    _assert_updates(_run(variant(opt.update), opt, 3), _reference(direction, 3))


def test_penalty_enters_momentum_like_a_loss_term(variant):
    # Penalties come first in the chain, so the velocity accumulates g + l2 * w.
    opt = opt_lib.make_optimizer(_config("momentum", momentum=0.8, l2=0.4), total_steps=10)
    momentum = momentum_eq(0.8, nesterov=False)

    def direction(t, g, w):
        return momentum(t, {k: g[k] + 0.4 * w[k] if w[k].ndim >= 2 else g[k] for k in g}, w)

    _assert_updates(_run(variant(opt.update), opt, 3), _reference(direction, 3))


def test_injected_l2_set_from_zero_in_the_state_acts_like_a_configured_l2(variant):
    # A sweep builds one optimiser from a base config with l2=0 and sets each member's l2 in its state.
    opt = opt_lib.make_optimizer(_config("momentum", momentum=0.8), total_steps=10, inject=("l2",))
    params, run = _f32(PARAMS), []
    state = optax.tree.set(opt.init(params), l2=jnp.asarray(0.4, jnp.float32))
    for g in GRADS[:3]:
        updates, state = variant(opt.update)(_f32(g), state, params)
        params = optax.apply_updates(params, updates)
        run.append(jax.tree.map(np.asarray, updates))
    momentum = momentum_eq(0.8, nesterov=False)

    def direction(t, g, w):
        return momentum(t, {k: g[k] + 0.4 * w[k] if w[k].ndim >= 2 else g[k] for k in g}, w)

    _assert_updates(run, _reference(direction, 3))


def test_state_structure_does_not_depend_on_l2():
    # At l2=0 the penalty is left out of the chain, but checkpoints of either kind still restore.
    params = _f32(PARAMS)
    off, on = (opt_lib.make_optimizer(_config("adam", l2=l2), total_steps=10).init(params) for l2 in (0.0, 0.1))
    assert jax.tree.structure(off) == jax.tree.structure(on)


@pytest.mark.parametrize(
    "overrides", [dict(l2=0.4), dict(l1=0.4), dict(name="adamw", weight_decay=0.4)], ids=["l2", "l1", "adamw_decay"]
)
def test_biases_are_never_penalised(variant, overrides):
    # With zero gradients only the penalty can move anything.
    opt = opt_lib.make_optimizer(_config(**overrides), total_steps=10)
    params = _f32(PARAMS)
    zeros = jax.tree.map(jnp.zeros_like, params)
    updates, _ = variant(opt.update)(zeros, opt.init(params), params)
    np.testing.assert_array_equal(updates["bias"], 0.0)
    assert np.all(np.abs(np.asarray(updates["kernel"])) > 0)


def test_clip_by_value(variant):
    opt = opt_lib.make_optimizer(_config("sgd", clip_value=0.35), total_steps=10)

    def direction(t, g, w):
        return {k: np.minimum(np.maximum(g[k], -0.35), 0.35) for k in g}

    _assert_updates(_run(variant(opt.update), opt, 3), _reference(direction, 3))


def test_clip_by_global_norm(variant):
    max_norm = 1.2
    norms = [math.sqrt(sum(np.sum(v**2) for v in g.values())) for g in GRADS[:3]]
    assert norms[0] < max_norm < norms[1]  # one step passes through, one is rescaled
    opt = opt_lib.make_optimizer(_config("sgd", clip_norm=max_norm), total_steps=10)

    def direction(t, g, w):
        norm = math.sqrt(sum(np.sum(v**2) for v in g.values()))  # over ALL leaves
        return {k: g[k] * min(1.0, max_norm / norm) for k in g}

    _assert_updates(_run(variant(opt.update), opt, 3), _reference(direction, 3))


def test_clipping_applies_after_penalty(variant):
    opt = opt_lib.make_optimizer(_config("sgd", l2=0.4, clip_value=0.35), total_steps=10)

    def direction(t, g, w):
        pen = {k: g[k] + 0.4 * w[k] if w[k].ndim >= 2 else g[k] for k in g}
        return {k: np.clip(pen[k], -0.35, 0.35) for k in g}

    _assert_updates(_run(variant(opt.update), opt, 3), _reference(direction, 3))


@pytest.mark.parametrize("name", SCHEDULE_CASES)
def test_schedule_scales_momentum_updates(variant, name):
    overrides, factor = SCHEDULE_CASES[name]
    cfg = _config("momentum", momentum=0.8, schedule=overrides)
    opt = opt_lib.make_optimizer(cfg, total_steps=6)
    expected = _reference(momentum_eq(0.8, nesterov=False), 5, factor=factor)
    _assert_updates(_run(variant(opt.update), opt, 5), expected)


@pytest.mark.parametrize(
    "name, keys",
    [
        ("sgd", {"learning_rate", "l2"}),
        ("nesterov", {"learning_rate", "l2", "momentum"}),
        ("adagrad", {"learning_rate", "l2"}),
        ("adamw", {"learning_rate", "l2", "b1", "b2", "weight_decay"}),
    ],
    ids=["sgd", "nesterov", "adagrad", "adamw"],
)
def test_hyperparams_live_in_state(name, keys):
    cfg = _config(name, momentum=0.8)
    state = opt_lib.make_optimizer(cfg, total_steps=10).init(_f32(PARAMS))
    assert set(state.hyperparams) == keys
    np.testing.assert_allclose(opt_lib.get_learning_rate(state), 0.05, rtol=RTOL)
    if "momentum" in keys:
        np.testing.assert_allclose(state.hyperparams["momentum"], 0.8, rtol=RTOL)


def test_set_learning_rate_changes_next_update(variant):
    opt = opt_lib.make_optimizer(_config("momentum", momentum=0.8), total_steps=10)
    update = variant(opt.update)
    params = _f32(PARAMS)
    _, state = update(_f32(GRADS[0]), opt.init(params), params)
    new_state = opt_lib.set_learning_rate(state, 0.2)
    np.testing.assert_allclose(opt_lib.get_learning_rate(state), 0.05, rtol=RTOL)  # pure
    np.testing.assert_allclose(opt_lib.get_learning_rate(new_state), 0.2, rtol=RTOL)
    updates, _ = update(_f32(GRADS[1]), new_state, params)
    # Velocity after two steps: v = 0.8 * g0 + g1, applied with the new lr.
    for k in PARAMS:
        expected = -0.2 * (0.8 * GRADS[0][k] + GRADS[1][k])
        np.testing.assert_allclose(updates[k], expected, rtol=RTOL, atol=ATOL)


def test_changing_learning_rate_does_not_recompile():
    opt = opt_lib.make_optimizer(_config("adam"), total_steps=10)
    traces = []

    @jax.jit
    def step(params, state, grads):
        traces.append(None)  # runs only while tracing
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    params = _f32(PARAMS)
    state = opt.init(params)
    for i, g in enumerate(GRADS):
        params, state = step(params, state, _f32(g))
        state = opt_lib.set_learning_rate(state, 0.1 / (i + 1))
    assert len(traces) == 1
    assert step._cache_size() == 1
    np.testing.assert_allclose(opt_lib.get_learning_rate(state), 0.1 / len(GRADS), rtol=RTOL)


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(name="rmsprop"), "sgd, momentum, nesterov, adagrad, adam, adamw"),
        (dict(learning_rate=-0.1), "learning_rate"),
        (dict(clip_value=-1.0), "clip_value"),
        (dict(clip_norm=-1.0), "clip_norm"),
        (dict(name="momentum", momentum=1.0), "momentum"),
        (dict(name="nesterov", momentum=-0.1), "momentum"),
        (dict(schedule=dict(name="linear")), "constant, step, exponential, cosine, noam, plateau"),
        (dict(schedule=dict(name="cosine", warmup_steps=10)), "total_steps"),
    ],
)
def test_invalid_config_raises(overrides, match):
    cfg = _config(**overrides)
    with pytest.raises(ValueError, match=match):
        opt_lib.make_optimizer(cfg, total_steps=10)


def test_stacked_biases_and_scales_are_not_weights():
    # A scanned transformer stacks layers: its biases and norm scales are 2-D.
    params = {"blocks": {"dense": {"kernel": jnp.ones((4, 3, 3)), "bias": jnp.ones((4, 3))},
                         "ln": {"scale": jnp.ones((4, 3))}},
              "embed": jnp.ones((5, 3)), "b": jnp.ones((3,))}
    mask = opt_lib.weights_mask(params)
    assert mask == {"blocks": {"dense": {"kernel": True, "bias": False}, "ln": {"scale": False}},
                    "embed": True, "b": False}
    cfg = opt_lib.default_optimizer_config()
    cfg.update(name="adamw", learning_rate=0.1, weight_decay=0.5)
    tx = opt_lib.make_optimizer(cfg, total_steps=10)
    zeros = jax.tree.map(jnp.zeros_like, params)
    updates, _ = tx.update(zeros, tx.init(params), params)
    # Zero gradients: only decayed leaves move.
    moved = jax.tree.map(lambda u: bool(jnp.any(u != 0)), updates)
    assert moved == mask


@pytest.mark.parametrize("name, field", [("adamw", "weight_decay"), ("sgd", "l2")])
def test_decay_biases_decays_every_leaf_as_torch_does(name, field):
    # PyTorch's AdamW(weight_decay=...) and SGD(weight_decay=...) decay biases too.
    params = {"dense": {"kernel": jnp.full((3, 2), 2.0), "bias": jnp.full((2,), 2.0)}}
    cfg = opt_lib.default_optimizer_config()
    cfg.update(name=name, learning_rate=0.1, decay_biases=True, **{field: 0.5})
    tx = opt_lib.make_optimizer(cfg, total_steps=10)
    zeros = jax.tree.map(jnp.zeros_like, params)
    updates, _ = tx.update(zeros, tx.init(params), params)
    # Zero gradients: every leaf moves by -lr * coeff * w = -0.1 (AdamW's decay is decoupled).
    chex.assert_trees_all_close(updates, jax.tree.map(lambda w: -0.1 * 0.5 * w, params))


def test_ema_of_params_equals_a_hand_computed_ema_over_three_steps(variant):
    # momentum SGD by hand: v <- g + 0.8 v, w <- w - 0.05 v; ema <- 0.9 ema + 0.1 w from ema_0 = w_0.
    opt = opt_lib.make_optimizer(_config("momentum", momentum=0.8), total_steps=10, ema_decay=0.9)
    update = variant(opt.update)
    params = _f32(PARAMS)
    state = opt.init(params)
    assert opt_lib.eval_params(params, opt_lib.make_optimizer(_config(), total_steps=10).init(params)) is params
    w = {k: np.array(v, np.float64) for k, v in PARAMS.items()}
    v = {k: np.zeros_like(x) for k, x in w.items()}
    ema = {k: x.copy() for k, x in w.items()}
    for g in GRADS[:3]:
        updates, state = update(_f32(g), state, params)
        params = optax.apply_updates(params, updates)
        for k in w:
            v[k] = g[k] + 0.8 * v[k]
            w[k] = w[k] - 0.05 * v[k]
            ema[k] = 0.9 * ema[k] + 0.1 * w[k]
    for k in w:
        np.testing.assert_allclose(params[k], w[k], rtol=1e-6, atol=1e-7)  # the updates pass through unchanged
        np.testing.assert_allclose(opt_lib.eval_params(params, state)[k], ema[k], rtol=1e-6, atol=1e-7)
    assert not np.allclose(ema["kernel"], w["kernel"])
    # The learning rate is still found (and set) through the EMA's chain.
    np.testing.assert_allclose(opt_lib.get_learning_rate(opt_lib.set_learning_rate(state, 0.2)), 0.2, rtol=RTOL)


def test_ema_decay_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"train.ema_decay must be in \[0, 1\)"):
        opt_lib.make_optimizer(_config(), total_steps=10, ema_decay=1.0)
