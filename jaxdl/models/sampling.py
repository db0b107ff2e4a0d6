"""Sampling tokens from logits, and autoregressive generation as one jitted `lax.scan`."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from jaxdl.models.lm import LanguageModel
from jaxdl.models.pure import Params


def sample_logits(key: jax.Array, logits_BxV: jax.Array, temperature: float | jax.Array = 1.0,
                  top_k: int = 0) -> jax.Array:
    """Token ids (B,) drawn from softmax(logits / temperature), among the `top_k` best.

    temperature 0 is greedy (argmax); it may be a traced scalar. `top_k` (static;
    0 = all) keeps the k largest logits (ties with the k-th are kept too).
    """
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0 (0 = no truncation), got {top_k}")
    if top_k and top_k < logits_BxV.shape[-1]:
        kth_Bx1 = lax.top_k(logits_BxV, top_k)[0][..., -1:]
        logits_BxV = jnp.where(logits_BxV < kth_Bx1, -jnp.inf, logits_BxV)
    temperature = jnp.asarray(temperature, logits_BxV.dtype)
    greedy_B = jnp.argmax(logits_BxV, axis=-1)
    # max(t, tiny) keeps the division finite on the greedy branch, which `where` discards.
    scaled = logits_BxV / jnp.maximum(temperature, jnp.finfo(logits_BxV.dtype).tiny)
    sampled_B = jax.random.categorical(key, scaled, axis=-1)
    return jnp.where(temperature > 0, sampled_B, greedy_B).astype(jnp.int32)


@functools.partial(jax.jit, static_argnames=("lm", "length", "top_k"))
def generate(lm: LanguageModel, params: Params, key: jax.Array, prompt_BxP: jax.Array, length: int,
             temperature: float | jax.Array = 1.0, top_k: int = 0) -> jax.Array:
    """`length` new token ids (B, length) continuing each prompt row.

    The prompt is fed through `lm.step` (one scan), then each new token is sampled from
    the last logits and fed back (a second scan): no Python loop per token. Step t
    samples with `fold_in(key, t)`, so a key fixes the text.
    """
    batch, prompt_len = prompt_BxP.shape
    if prompt_len < 1:
        raise ValueError("generate needs a non-empty prompt (at least one token id)")
    cache = lm.init_cache(params, batch, prompt_len + length)

    def feed(cache, ids_B):
        return lm.step(params, cache, ids_B)

    cache, logits_PxBxV = lax.scan(feed, cache, jnp.swapaxes(prompt_BxP, 0, 1))

    def sample(carry, t):
        cache, logits_BxV = carry
        ids_B = sample_logits(jax.random.fold_in(key, t), logits_BxV, temperature, top_k)
        cache, logits_BxV = lm.step(params, cache, ids_B)
        return (cache, logits_BxV), ids_B

    _, ids_LxB = lax.scan(sample, (cache, logits_PxBxV[-1]), jnp.arange(length))
    return jnp.swapaxes(ids_LxB, 0, 1)
