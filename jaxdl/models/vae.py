"""Variational autoencoder (Kingma & Welling, 2014) for binary images.

q(z|x) is a diagonal Gaussian whose mean and log-variance an MLP encoder
computes, p(z) = N(0, I), and p(x|z) a product of Bernoullis whose logits an
MLP decoder computes. Every random draw takes an explicit key. Quantities are
in nats per image; `_B` arrays hold one value per example.

The negative ELBO, E_q[-log p(x|z)] + KL(q(z|x) || p(z)), is the training
loss (one reparameterised sample, closed-form KL). The importance-weighted
bound (Burda et al., 2016) log (1/k) sum_i p(x, z_i) / q(z_i|x), z_i ~ q(z|x),
is the log-likelihood estimate at evaluation: it is >= the ELBO and tends to
log p(x) as k grows. Its k samples are drawn in chunks so memory stays
bounded by the chunk, not by k.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from jaxdl.models import inits
from jaxdl.models.pure import Params, PureModel, binder, pure_model

LOG_2PI = math.log(2 * math.pi)


VARIANCES = ("exp", "softplus")
INITS = ("lecun_normal", "torch_default")  # torch_default: PyTorch nn.Linear's (jaxdl.models.inits)


def log_variance(h: jax.Array, variance: str) -> jax.Array:
    """The posterior's log variance from the encoder's second head `h`.

    "exp": h is the log variance (Kingma & Welling). "softplus": the variance is softplus(h), as
    Guppy16's vae.py has it (its MultivariateNormal takes softplus(h) as the covariance), so
    log var = log softplus(h); below h = -20 that is h to float32 precision, and the clamp keeps
    the unused branch (and its gradient) finite.
    """
    if variance == "exp":
        return h
    return jnp.where(h < -20.0, h, jnp.log(jax.nn.softplus(jnp.maximum(h, -20.0))))


class VAE(nnx.Module):
    def __init__(self, data_dim: int, hidden: Sequence[int], latent_dim: int, *, activation: str = "relu",
                 variance: str = "exp", init: str = "lecun_normal", rngs: nnx.Rngs):
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
        if variance not in VARIANCES:
            raise ValueError(f"unknown VAE variance {variance!r}; valid: {', '.join(VARIANCES)}")
        if init not in INITS:
            raise ValueError(f"unknown VAE init {init!r}; valid: {', '.join(INITS)}")
        self.variance = variance
        self.act = inits.activation(activation)

        def linear(n_in: int, n_out: int) -> nnx.Linear:
            if init == "lecun_normal":  # nnx.Linear's own: lecun-normal kernels, zero biases
                return nnx.Linear(n_in, n_out, rngs=rngs)
            return nnx.Linear(n_in, n_out, kernel_init=inits.kernel_init("torch_default"),
                              bias_init=inits.torch_default_bias(n_in), rngs=rngs)

        enc = (data_dim, *hidden)
        self.encoder = nnx.List(linear(a, b) for a, b in zip(enc[:-1], enc[1:]))
        self.mean = linear(enc[-1], latent_dim)
        self.log_var = linear(enc[-1], latent_dim)
        dec = (latent_dim, *reversed(tuple(hidden)))
        self.decoder = nnx.List(linear(a, b) for a, b in zip(dec[:-1], dec[1:]))
        self.logits = linear(dec[-1], data_dim)

    def encode(self, x_BxD: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = x_BxD
        for layer in self.encoder:
            h = self.act(layer(h))
        return self.mean(h), log_variance(self.log_var(h), self.variance)

    def decode(self, z_BxL: jax.Array) -> jax.Array:
        h = z_BxL
        for layer in self.decoder:
            h = self.act(layer(h))
        return self.logits(h)

    def __call__(self, x, *, train: bool = False, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Reconstruction logits at the posterior mean (deterministic)."""
        return self.decode(self.encode(x.reshape(x.shape[0], -1))[0])


@dataclasses.dataclass(frozen=True)
class VAEFunctions:
    """A VAE as pure functions of its params; images are flattened to D pixels."""

    model: PureModel  # init, and apply = reconstruction logits at the posterior mean
    latent_dim: int
    encode: Callable[[Params, jax.Array], tuple[jax.Array, jax.Array]]  # x_BxD -> mean_BxL, log_var_BxL
    decode: Callable[[Params, jax.Array], jax.Array]  # z_BxL -> logits_BxD


def make(input_shape: Sequence[int], hidden: Sequence[int] = (500,), latent_dim: int = 20,
         activation: str = "relu", variance: str = "exp", init: str = "lecun_normal") -> VAEFunctions:
    hparams = dict(data_dim=math.prod(input_shape), hidden=tuple(hidden), latent_dim=int(latent_dim),
                   activation=activation, variance=variance, init=init)
    bind = binder(VAE, **hparams)
    return VAEFunctions(
        model=pure_model("vae", VAE, tuple(input_shape), **hparams),
        latent_dim=int(latent_dim),
        encode=lambda params, x_BxD: bind(params).encode(x_BxD),
        decode=lambda params, z_BxL: bind(params).decode(z_BxL),
    )


def reparameterize(key: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """z = mean + sigma * eps, eps ~ N(0, I): a sample of q whose gradient flows to mean, log_var."""
    return mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, mean.shape, mean.dtype)


def kl_to_standard_normal(mean_BxL: jax.Array, log_var_BxL: jax.Array) -> jax.Array:
    """KL(N(mean, diag exp(log_var)) || N(0, I)) in closed form, per example."""
    return 0.5 * jnp.sum(jnp.square(mean_BxL) + jnp.exp(log_var_BxL) - 1.0 - log_var_BxL, axis=-1)


def gaussian_log_prob(z: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """log N(z; mean, diag exp(log_var)), summed over the last axis."""
    return -0.5 * jnp.sum(LOG_2PI + log_var + jnp.square(z - mean) * jnp.exp(-log_var), axis=-1)


def bernoulli_log_prob(logits: jax.Array, x: jax.Array) -> jax.Array:
    """log p(x | logits) for binary x, summed over the last axis."""
    return -jnp.sum(optax.sigmoid_binary_cross_entropy(logits, x), axis=-1)


def negative_elbo(vae: VAEFunctions, params: Params, x_BxD: jax.Array, key: jax.Array):
    """One-sample negative ELBO per example, split as (total_B, reconstruction_B, kl_B)."""
    mean, log_var = vae.encode(params, x_BxD)
    z = reparameterize(key, mean, log_var)
    # The terms in float32 whatever the compute dtype (train.precision=bfloat16).
    reconstruction = -bernoulli_log_prob(vae.decode(params, z).astype(jnp.float32), x_BxD)
    kl = kl_to_standard_normal(mean.astype(jnp.float32), log_var.astype(jnp.float32))
    return reconstruction + kl, reconstruction, kl


def log_weights(vae: VAEFunctions, params: Params, x_BxD: jax.Array, mean: jax.Array, log_var: jax.Array,
                key: jax.Array, k: int) -> tuple[jax.Array, jax.Array]:
    """(log p(x, z_i) - log q(z_i|x), log p(x|z_i)) for k draws z_i ~ q, each of shape (B, k)."""
    b, latent = mean.shape
    z_BxKxL = reparameterize(key, jnp.broadcast_to(mean[:, None], (b, k, latent)),
                             jnp.broadcast_to(log_var[:, None], (b, k, latent)))
    logits_BxKxD = vae.decode(params, z_BxKxL.reshape(b * k, latent)).reshape(b, k, -1)
    x_BxKxD = jnp.broadcast_to(x_BxD[:, None], logits_BxKxD.shape)
    log_lik_BxK = bernoulli_log_prob(logits_BxKxD, x_BxKxD)
    log_prior_BxK = gaussian_log_prob(z_BxKxL, jnp.zeros_like(z_BxKxL), jnp.zeros_like(z_BxKxL))
    log_q_BxK = gaussian_log_prob(z_BxKxL, mean[:, None], log_var[:, None])
    return log_lik_BxK + log_prior_BxK - log_q_BxK, log_lik_BxK


def importance_weighted(vae: VAEFunctions, params: Params, x_BxD: jax.Array, key: jax.Array, *,
                        num_samples: int, chunk: int) -> dict[str, jax.Array]:
    """IWAE bound and ELBO from the same `num_samples` draws, `chunk` at a time.

    Returns per-example {"iwae": log-likelihood lower bound, "elbo": ELBO with the mean
    reconstruction over the draws and the closed-form KL, "reconstruction", "kl"}.
    A scan over chunks keeps a running logsumexp of the log weights: memory is
    O(B * chunk * D) whatever `num_samples` is.
    """
    if num_samples < 1 or chunk < 1 or num_samples % chunk:
        raise ValueError(f"num_samples ({num_samples}) must be a positive multiple of chunk ({chunk})")
    mean, log_var = vae.encode(params, x_BxD)

    def body(carry, i):
        lse_B, rec_B = carry
        log_w_BxC, log_lik_BxC = log_weights(vae, params, x_BxD, mean, log_var, jax.random.fold_in(key, i), chunk)
        lse_B = jnp.logaddexp(lse_B, jax.nn.logsumexp(log_w_BxC, axis=-1))
        return (lse_B, rec_B - jnp.sum(log_lik_BxC, axis=-1)), None

    b = x_BxD.shape[0]
    init = (jnp.full((b,), -jnp.inf, x_BxD.dtype), jnp.zeros((b,), x_BxD.dtype))
    (lse_B, rec_sum_B), _ = jax.lax.scan(body, init, jnp.arange(num_samples // chunk))
    reconstruction = rec_sum_B / num_samples
    kl = kl_to_standard_normal(mean, log_var)
    return {"iwae": lse_B - math.log(num_samples), "elbo": -(reconstruction + kl),
            "reconstruction": reconstruction, "kl": kl}
