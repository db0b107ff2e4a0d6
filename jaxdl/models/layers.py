"""Layers the transformer models share, as pure functions over parameter dicts."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.models import attention as attn


def init_layer_norm(d: int) -> dict:
    """LayerNorm parameters over a last axis of size `d`: unit scale, zero bias."""
    return {"scale": jnp.ones((d,), jnp.float32), "bias": jnp.zeros((d,), jnp.float32)}


def layer_norm(p: dict, x: jax.Array, eps: float = 1e-5) -> jax.Array:
    """LayerNorm over the last axis with float32 statistics; returns x's dtype."""
    x32 = x.astype(jnp.float32)
    mean = x32.mean(-1, keepdims=True)
    var = jnp.square(x32 - mean).mean(-1, keepdims=True)
    y = (x32 - mean) * jax.lax.rsqrt(var + eps)
    y = y * attn.expand_to(p["scale"].astype(jnp.float32), y.ndim) + attn.expand_to(
        p["bias"].astype(jnp.float32), y.ndim)
    return y.astype(x.dtype)
