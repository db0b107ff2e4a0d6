"""VAE maths: KL in closed form, the reparameterised sample, ELBO <= IWAE <= 0, chunking."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import vae as vae_lib
from jaxdl.tasks import binary


def test_closed_form_kl_matches_monte_carlo():
    mean = jnp.asarray([[0.5, -1.0, 0.0], [2.0, 0.3, -0.7]])
    log_var = jnp.asarray([[0.0, -1.0, 0.8], [-2.0, 0.5, 0.1]])
    n = 400_000
    z = vae_lib.reparameterize(jax.random.key(0), jnp.broadcast_to(mean, (n, 2, 3)),
                               jnp.broadcast_to(log_var, (n, 2, 3)))
    log_q = vae_lib.gaussian_log_prob(z, mean[None], log_var[None])
    log_p = vae_lib.gaussian_log_prob(z, jnp.zeros_like(z), jnp.zeros_like(z))
    mc, sd = jnp.mean(log_q - log_p, 0), jnp.std(log_q - log_p, 0)
    closed = vae_lib.kl_to_standard_normal(mean, log_var)
    np.testing.assert_array_less(np.abs(mc - closed), 5 * sd / np.sqrt(n))
    np.testing.assert_allclose(vae_lib.kl_to_standard_normal(jnp.zeros((1, 4)), jnp.zeros((1, 4))), [0.0])


def test_reparameterised_sample_has_the_right_mean_and_variance():
    mean, log_var = jnp.asarray([1.5, -2.0, 0.0]), jnp.asarray([0.0, 1.0, -3.0])
    n = 200_000
    z = vae_lib.reparameterize(jax.random.key(1), jnp.broadcast_to(mean, (n, 3)), jnp.broadcast_to(log_var, (n, 3)))
    var = jnp.exp(log_var)
    np.testing.assert_array_less(np.abs(z.mean(0) - mean), 5 * np.sqrt(var / n))
    np.testing.assert_allclose(z.var(0), var, rtol=5 * np.sqrt(2 / n))
    # Gradients reach the mean and log-variance through the sample.
    sample_sum = lambda m, lv: vae_lib.reparameterize(jax.random.key(2), m, lv).sum()
    grads = jax.grad(sample_sum, argnums=(0, 1))(mean, log_var)
    chex.assert_trees_all_close(grads[0], jnp.ones(3))
    assert np.all(np.asarray(grads[1]) != 0)


@pytest.fixture(scope="module")
def small_vae():
    vae = vae_lib.make((16,), hidden=(32,), latent_dim=3, activation="tanh")
    params = vae.model.init(jax.random.key(0))
    x = binary.fixed(jax.random.uniform(jax.random.key(1), (5, 16)))
    return vae, params, x


def test_elbo_below_iwae_below_zero(small_vae):
    vae, params, x = small_vae
    out = vae_lib.importance_weighted(vae, params, x, jax.random.key(3), num_samples=500, chunk=50)
    draws = jax.vmap(lambda k: vae_lib.negative_elbo(vae, params, x, k)[0])(jax.random.split(jax.random.key(4), 2000))
    # Both are Monte Carlo ELBOs (500 and 2000 draws): equal within 5 standard errors.
    se = np.asarray(draws.std(0)) * np.sqrt(1 / 500 + 1 / 2000)
    np.testing.assert_array_less(np.abs(np.asarray(out["elbo"] + draws.mean(0))), 5 * se)
    assert np.all(np.asarray(out["elbo"]) < np.asarray(out["iwae"]))
    assert np.all(np.asarray(out["iwae"]) < 0)
    np.testing.assert_allclose(out["elbo"], -(out["reconstruction"] + out["kl"]), rtol=1e-6)


def test_chunking_does_not_change_the_estimate_and_one_sample_iwae_is_the_elbo(small_vae):
    vae, params, x = small_vae
    key = jax.random.key(5)
    whole = vae_lib.importance_weighted(vae, params, x, key, num_samples=40, chunk=40)
    mean, log_var = vae.encode(params, x)
    log_w, _ = vae_lib.log_weights(vae, params, x, mean, log_var, jax.random.fold_in(key, 0), 40)
    np.testing.assert_allclose(whole["iwae"], jax.nn.logsumexp(log_w, -1) - np.log(40), rtol=1e-6)
    # Chunk i draws with fold_in(key, i): the running logsumexp equals one over all chunks' weights.
    chunked = vae_lib.importance_weighted(vae, params, x, key, num_samples=40, chunk=10)
    log_w_chunks = jnp.concatenate(
        [vae_lib.log_weights(vae, params, x, mean, log_var, jax.random.fold_in(key, i), 10)[0] for i in range(4)],
        axis=-1)
    np.testing.assert_allclose(chunked["iwae"], jax.nn.logsumexp(log_w_chunks, -1) - np.log(40), rtol=1e-5)
    one = vae_lib.importance_weighted(vae, params, x, key, num_samples=1, chunk=1)
    log_w1, _ = vae_lib.log_weights(vae, params, x, mean, log_var, jax.random.fold_in(key, 0), 1)
    np.testing.assert_allclose(one["iwae"], log_w1[:, 0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"num_samples \(100\) must be a positive multiple of chunk \(30\)"):
        vae_lib.importance_weighted(vae, params, x, key, num_samples=100, chunk=30)


def test_softplus_variance_is_log_softplus_of_the_head_and_stays_finite():
    h = jnp.asarray([-200.0, -30.0, -5.0, 0.0, 3.0, 50.0])
    got = vae_lib.log_variance(h, "softplus")
    want = np.log(np.log1p(np.exp(np.asarray(h, np.float64))))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    grads = jax.grad(lambda v: vae_lib.log_variance(v, "softplus").sum())(h)
    chex.assert_tree_all_finite(grads)
    chex.assert_trees_all_close(vae_lib.log_variance(h, "exp"), h)
    vae = vae_lib.make((16,), hidden=(32,), latent_dim=3, variance="softplus")
    params = vae.model.init(jax.random.key(0))
    x = jax.random.uniform(jax.random.key(1), (4, 16))
    head = x @ params["encoder"][0]["kernel"] + params["encoder"][0]["bias"][None]
    head = jax.nn.relu(head) @ params["log_var"]["kernel"] + params["log_var"]["bias"][None]
    chex.assert_trees_all_close(vae.encode(params, x)[1], vae_lib.log_variance(head, "softplus"), rtol=1e-5)


def test_torch_default_init_bounds_every_layer_by_its_fan_in():
    vae = vae_lib.make((16,), hidden=(32,), latent_dim=3, init="torch_default")
    params = vae.model.init(jax.random.key(0))
    fan_in = {"encoder": 16, "mean": 32, "log_var": 32, "decoder": 3, "logits": 32}
    for name, n_in in fan_in.items():
        layer = params[name][0] if name in ("encoder", "decoder") else params[name]
        for values in (np.asarray(layer["kernel"]), np.asarray(layer["bias"])):
            assert 0 < np.abs(values).max() <= 1.0 / np.sqrt(n_in)
    default = vae_lib.make((16,), hidden=(32,), latent_dim=3).model.init(jax.random.key(0))
    assert not np.any(np.asarray(default["mean"]["bias"]))  # lecun-normal kernels, zero biases
