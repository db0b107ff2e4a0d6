"""Collaborative-filtering models: either embedding, predictions inside the sigmoid range, centring, the penalty."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import cf


def test_cf_models_with_either_embedding_agree():
    x_Bx2 = jnp.array([[0, 1], [4, 2], [4, 9]])
    for make in (cf.make_dot, cf.make_split):
        ref, homebrew = make(5, 10, impl="lookup"), make(5, 10, impl="one_hot")
        params = ref.init(jax.random.key(0))
        chex.assert_trees_all_close(ref.apply(params, x_Bx2), homebrew.apply(params, x_Bx2), rtol=1e-5)


@pytest.mark.parametrize("make", [cf.make_dot, cf.make_split])
def test_predictions_stay_inside_the_sigmoid_range(make):
    model = make(20, 30, y_range=(0.0, 5.5), center=3.5)
    params = model.init(jax.random.key(0))
    # Blow the parameters up: the raw scores reach far outside the range, the predictions cannot.
    params = jax.tree.map(lambda p: 50.0 * p + 10.0 * jnp.sign(p), params)
    x_Bx2 = jnp.stack(jnp.meshgrid(jnp.arange(20), jnp.arange(30), indexing="ij"), -1).reshape(-1, 2)
    pred = np.asarray(model.apply(params, x_Bx2))
    assert pred.min() >= 0.0 and pred.max() <= 5.5
    assert pred.max() - pred.min() > 5.0  # the test reaches both ends


@pytest.mark.parametrize("y_range", [(0.0, 5.5), ()])
@pytest.mark.parametrize("make", [cf.make_dot, cf.make_split])
def test_initial_mean_prediction_sits_at_the_configured_centre(make, y_range):
    x_Bx2 = jax.random.randint(jax.random.key(1), (2000, 2), 0, 100)
    centred = make(100, 100, y_range=y_range, center=3.54)
    mean = float(centred.apply(centred.init(jax.random.key(0)), x_Bx2).mean())
    assert abs(mean - 3.54) < 0.02
    if y_range:  # without centring the sigmoid starts in the middle of its range
        plain = make(100, 100, y_range=y_range, center=None)
        assert abs(float(plain.apply(plain.init(jax.random.key(0)), x_Bx2).mean()) - 2.75) < 0.02


def test_centre_outside_the_range_is_rejected():
    with pytest.raises(ValueError, match="strictly inside"):
        cf.make_dot(3, 3, y_range=(0.0, 5.5), center=6.0).init(jax.random.key(0))


def test_used_rows_penalty_counts_each_rating():
    model = cf.make_dot(3, 4, factors=2)
    params = jax.tree.map(jnp.ones_like, model.init(jax.random.key(0)))
    # 2 factors from each table plus the two biases: 2 + 2 + 1 + 1 per rating.
    chex.assert_trees_all_close(cf.used_rows_sq_norm(params, jnp.array([[0, 0], [2, 3]])), jnp.full((2,), 6.0))


def test_no_global_offset_is_playdls_scaled_sigmoid_of_the_dot_product():
    model = cf.make_dot(6, 7, factors=4, biases=False, y_range=(0.0, 5.0), global_offset="none",
                        embed_init_scale=0.5)
    params = model.init(jax.random.key(0))
    assert set(params) == {"user", "item"}  # nothing but the two tables
    x_Bx2 = jnp.array([[0, 1], [5, 6], [3, 3]])
    u, m = np.asarray(params["user"]["table"]), np.asarray(params["item"]["table"])
    want = 5.0 / (1.0 + np.exp(-(u[[0, 5, 3]] * m[[1, 6, 3]]).sum(-1)))
    np.testing.assert_allclose(model.apply(params, x_Bx2), want, rtol=1e-5)


def test_fixed_global_offset_is_the_centre_and_no_parameter():
    model = cf.make_dot(50, 50, y_range=(0.0, 5.5), center=3.54, global_offset="fixed")
    params = model.init(jax.random.key(0))
    assert "offset" not in params
    zeroed = jax.tree.map(jnp.zeros_like, params)
    np.testing.assert_allclose(model.apply(zeroed, jnp.array([[0, 0], [7, 9]])), [3.54, 3.54], rtol=1e-5)
    assert "offset" in cf.make_dot(5, 5, center=3.54).init(jax.random.key(0))  # learned by default


def test_embedding_init_mean_and_scale():
    params = cf.make_dot(400, 300, factors=8, embed_init_mean=0.3, embed_init_scale=0.05).init(jax.random.key(0))
    table = np.asarray(params["user"]["table"])
    assert abs(table.mean() - 0.3) < 0.005 and abs(table.std() - 0.05) < 0.005


def test_bad_global_offset_and_offset_free_centring_are_rejected():
    with pytest.raises(ValueError, match="unknown global_offset 'zero'; valid: learned, fixed, none"):
        cf.make_dot(3, 3, global_offset="zero").init(jax.random.key(0))
    with pytest.raises(ValueError, match="center_on_mean=false"):
        cf.make_dot(3, 3, center=3.5, global_offset="none").init(jax.random.key(0))
