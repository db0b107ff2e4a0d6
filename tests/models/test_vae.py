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
