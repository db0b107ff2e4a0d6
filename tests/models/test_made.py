"""MADE: the autoregressive property (via Jacobians), normalisation, masks and sampling."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import made

D, HIDDEN = 6, (12, 10)


def _model():
    model = made.make((D,), HIDDEN, "tanh")
    return model, model.init(jax.random.key(0))


def _assert_autoregressive(model, params, masks):
    """d logit_d / d x_j must vanish for every j at or after d in the ordering."""
    x = jax.random.uniform(jax.random.key(1), (D,))
    jac_DxD = jax.jacfwd(lambda v: model.apply(params, v[None], masks=masks)[0])(x)  # [out d, in j]
    position = np.argsort(np.asarray(masks.order_D))  # position[d] = step at which d is generated
    forbidden = position[None, :] >= position[:, None]  # in j at or after out d
    np.testing.assert_array_equal(np.asarray(jac_DxD)[forbidden], 0.0)
    # ...and the masks are not trivially empty: some allowed dependencies are live.
    assert np.count_nonzero(np.asarray(jac_DxD)[~forbidden]) > forbidden.size // 4


@pytest.mark.parametrize("ordering, connectivity, index", [
    ("natural", "random", 0), ("natural", "natural", 0), ("random", "random", 0),
    ("random", "random", 1), ("random", "natural", 7)])
def test_output_d_does_not_depend_on_inputs_at_or_after_d(ordering, connectivity, index):
    model, params = _model()
    masks = made.mask_set(jax.random.key(3), index, D, HIDDEN, ordering=ordering, connectivity=connectivity)
    if ordering == "natural":
        chex.assert_trees_all_equal(masks.order_D, jnp.arange(D))
    _assert_autoregressive(model, params, masks)


def test_order_agnostic_mask_draws_are_all_autoregressive_and_differ():
    model, params = _model()
    draw = jax.jit(lambda i: made.mask_set(jax.random.key(5), i, D, HIDDEN, ordering="random",
                                           connectivity="random"))
    orders = set()
    for i in jax.random.randint(jax.random.key(6), (6,), 0, 2**31 - 1):
        masks = draw(i)
        _assert_autoregressive(model, params, masks)
        orders.add(tuple(np.asarray(masks.order_D)))
    assert len(orders) > 1


def test_probabilities_of_all_binary_vectors_sum_to_one():
    model, params = _model()
    masks = made.mask_set(jax.random.key(2), 0, D, HIDDEN, ordering="random", connectivity="random")
    every_x = jnp.asarray(list(itertools.product([0.0, 1.0], repeat=D)))
    total = jnp.sum(jnp.exp(made.log_prob(model, params, every_x, masks)))
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)


def test_samples_follow_the_model_distribution():
    """Autoregressive samples of a D=3 MADE match its 8 probabilities."""
    model = made.make((3,), (8,), "tanh")
    params = jax.tree.map(lambda p: 3 * p, model.init(jax.random.key(1)))  # a far-from-uniform p(x)
    masks = made.mask_set(jax.random.key(2), 0, 3, (8,), ordering="random", connectivity="random")
    x = jax.jit(lambda p, m, k: made.sample(model, p, m, k, 40000))(params, masks, jax.random.key(4))
    assert set(np.unique(np.asarray(x))) <= {0.0, 1.0}
    every_x = jnp.asarray(list(itertools.product([0.0, 1.0], repeat=3)))
    expected = np.exp(np.asarray(made.log_prob(model, params, every_x, masks)))
    codes = np.asarray(x) @ np.asarray([4, 2, 1])
    observed = np.bincount(codes.astype(int), minlength=8) / len(codes)
    np.testing.assert_allclose(observed, expected, atol=4 * np.sqrt(expected.max() / len(codes)))


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="unknown MADE ordering 'reverse'; valid: natural, random"):
        made.make_masks(jax.random.key(0), D, HIDDEN, ordering="reverse")
    with pytest.raises(ValueError, match="at least one hidden layer"):
        made.make((D,), ())


def test_torch_default_init_draws_kernels_and_biases_within_the_fan_in_bound():
    model = made.make((D,), HIDDEN, "tanh", init="torch_default")
    params = model.init(jax.random.key(0))
    for i, n_in in enumerate((D, *HIDDEN)):
        layer = params["layers"][str(i)]
        for values in (np.asarray(layer["kernel"]), np.asarray(layer["bias"])):
            assert np.abs(values).max() <= 1.0 / np.sqrt(n_in) and np.abs(values).min() < 1.0 / np.sqrt(n_in)
        assert np.any(np.asarray(layer["bias"]) != 0)
    _assert_autoregressive(model, params, made.make_masks(jax.random.key(2), D, HIDDEN))
    with pytest.raises(ValueError, match="unknown MADE init 'xavier'; valid: lecun_normal, torch_default"):
        made.make((D,), HIDDEN, init="xavier")
