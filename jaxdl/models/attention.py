"""Scaled dot-product and multi-head attention written out, beside the library's fast path.

Layout follows `jax.nn.dot_product_attention`: queries `q_BxTxNxH` (batch, query
positions, heads, head size), keys and values `k_BxSxNxH`, `v_BxSxNxH`. Masks are
boolean, True where a query may attend to a key, broadcastable to (B, N, T, S).

    attention(q, k, v) = softmax(q k^T / sqrt(H) + mask) v

`impl="scratch"` computes exactly that with einsums (for study, and to return the
weights for attention maps); `impl="fast"` on a GPU calls `jax.nn.dot_product_attention`
with `implementation=None`, which picks cuDNN flash attention when the shapes allow
it and XLA otherwise. Elsewhere "fast" runs the scratch einsums: XLA:CPU runs them
faster than that function's XLA path (a 6 x 384 GPT train step at context 256,
batch 8: 1.5 vs 2.0 CPU s on one core). The tests check both impls against
`jax.nn.dot_product_attention`, and that the multi-head layer equals
`flax.nnx.MultiHeadAttention` given the same weights.

Multi-head attention here works on plain parameter dicts (not NNX modules) so the
transformer models can stack layers along a leading axis and `lax.scan` them.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl.models.matmul import matmul_last

IMPLS = ("fast", "scratch")


def causal_mask(num_queries: int, num_keys: int | None = None) -> jax.Array:
    """(1, 1, T, S) mask: query i sees keys j <= i + (S - T).

    With S > T the queries are the last T of S positions (a cache holding S - T earlier ones).
    """
    s = num_queries if num_keys is None else num_keys
    if s < num_queries:
        raise ValueError(f"causal mask needs num_keys >= num_queries, got {s} < {num_queries}")
    i = jnp.arange(num_queries)[:, None] + (s - num_queries)
    j = jnp.arange(s)[None, :]
    return (j <= i)[None, None]


def padding_mask(valid_BxS: jax.Array) -> jax.Array:
    """(B, 1, 1, S) mask from a (B, S) boolean/0-1 array marking real (non-padding) keys."""
    return valid_BxS.astype(bool)[:, None, None, :]


def combine_masks(*masks: jax.Array | None) -> jax.Array | None:
    """Logical AND of the masks given (None = no constraint); None if all are None."""
    present = [m for m in masks if m is not None]
    if not present:
        return None
    out = present[0]
    for m in present[1:]:
        out = jnp.logical_and(out, m)
    return out


def _large_negative(dtype) -> jax.Array:
    # The value jax.nn.dot_product_attention uses, so fully masked rows agree (uniform weights).
    return jnp.asarray(-0.7 * jnp.finfo(dtype).max, dtype)


def attention_weights(q_BxTxNxH: jax.Array, k_BxSxNxH: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """softmax(q k^T / sqrt(H)) over keys, masked: (B, N, T, S), in float32."""
    return _weights(jnp.swapaxes(q_BxTxNxH, 1, 2), jnp.swapaxes(k_BxSxNxH, 1, 2), mask)


# The einsums take heads-first (B, N, T, H) operands: batch axes leading, so XLA:CPU runs
# them as batched dots with no transposes inside (a 6 x 384 GPT train step: 0.071 vs
# 0.082 CPU s per layer of attention; the same numbers bit for bit).
def _weights(q_BxNxTxH: jax.Array, k_BxNxSxH: jax.Array, mask: jax.Array | None) -> jax.Array:
    scale = 1.0 / math.sqrt(q_BxNxTxH.shape[-1])
    logits_BxNxTxS = jnp.einsum(
        "bnth,bnsh->bnts", q_BxNxTxH, k_BxNxSxH, preferred_element_type=jnp.float32
    ) * scale
    if mask is not None:
        logits_BxNxTxS = jnp.where(mask, logits_BxNxTxS, _large_negative(jnp.float32))
    return jax.nn.softmax(logits_BxNxTxS, axis=-1)


def _weighted_values(q_BxNxTxH, k_BxNxSxH, v_BxNxSxH, mask) -> jax.Array:
    w_BxNxTxS = _weights(q_BxNxTxH, k_BxNxSxH, mask)
    return jnp.einsum("bnts,bnsh->bnth", w_BxNxTxS.astype(v_BxNxSxH.dtype), v_BxNxSxH)


def scaled_dot_product_attention(
    q_BxTxNxH: jax.Array, k_BxSxNxH: jax.Array, v_BxSxNxH: jax.Array, mask: jax.Array | None = None
) -> jax.Array:
    """The attention-weighted sum of values, (B, T, N, H), in the dtype of `v`."""
    q, k, v = (jnp.swapaxes(a, 1, 2) for a in (q_BxTxNxH, k_BxSxNxH, v_BxSxNxH))
    return jnp.swapaxes(_weighted_values(q, k, v, mask), 1, 2)


def causal_query_bounds(num_queries: int) -> list[int]:
    """Where `causal_attention` cuts T queries: at most 4 blocks, each a multiple of 64 queries
    but the last (at T = 256 on one CPU core, 5, 6 or 8 smaller blocks ran ~1.6x slower than 4)."""
    block = 64 * max(1, -(-num_queries // 256))
    return [*range(0, num_queries, block), num_queries]


def causal_attention(q_BxTxNxH: jax.Array, k_BxTxNxH: jax.Array, v_BxTxNxH: jax.Array,
                     bounds: list[int] | None = None) -> jax.Array:
    """Causal self-attention with the queries cut into blocks at `bounds` (default
    `causal_query_bounds`), each attending only to the keys up to its last query: the masked
    upper triangle is mostly not computed.

    The same maths as the full masked softmax (masked keys weigh exactly 0 there); only the
    softmax sums' order changes (gradients move by a few 1e-6). A 6 x 384 GPT layer at T = 256,
    B = 8, forward + backward on one CPU core: 32 vs 61 ms with 4 blocks.
    """
    bounds = causal_query_bounds(q_BxTxNxH.shape[1]) if bounds is None else bounds
    q, k, v = (jnp.swapaxes(a, 1, 2) for a in (q_BxTxNxH, k_BxTxNxH, v_BxTxNxH))
    outs = [_weighted_values(q[:, :, lo:hi], k[:, :, :hi], v[:, :, :hi], causal_mask(hi - lo, hi))
            for lo, hi in zip(bounds[:-1], bounds[1:])]
    return jnp.swapaxes(jnp.concatenate(outs, axis=2), 1, 2)


def fast_is_library() -> bool:
    """Whether impl="fast" calls `jax.nn.dot_product_attention` here (on a GPU) or the einsums."""
    return jax.default_backend() == "gpu"


def attend(
    q_BxTxNxH: jax.Array, k_BxSxNxH: jax.Array, v_BxSxNxH: jax.Array, mask: jax.Array | None = None,
    *, is_causal: bool = False, impl: str = "fast",
) -> jax.Array:
    """Attention by `impl`; `is_causal` adds the causal mask (and lets cuDNN use its causal kernel)."""
    if impl not in IMPLS:
        raise ValueError(f"unknown attention impl {impl!r}; valid: {', '.join(IMPLS)}")
    if impl == "fast" and fast_is_library():
        return jax.nn.dot_product_attention(
            q_BxTxNxH, k_BxSxNxH, v_BxSxNxH, mask=mask, is_causal=is_causal, implementation=None
        )
    if is_causal and mask is None and q_BxTxNxH.shape[1] == k_BxSxNxH.shape[1]:
        return causal_attention(q_BxTxNxH, k_BxSxNxH, v_BxSxNxH)
    if is_causal:
        mask = combine_masks(mask, causal_mask(q_BxTxNxH.shape[1], k_BxSxNxH.shape[1]))
    return scaled_dot_product_attention(q_BxTxNxH, k_BxSxNxH, v_BxSxNxH, mask)


# --- multi-head attention over parameter dicts ---------------------------------------------


def init_dense(key: jax.Array, d_in: int, d_out: int, *, std: float | None = None) -> dict:
    """{"kernel": (d_in, d_out) normal(std), "bias": zeros}; std defaults to 1/sqrt(d_in)."""
    std = 1.0 / math.sqrt(d_in) if std is None else std
    return {"kernel": std * jax.random.normal(key, (d_in, d_out), jnp.float32),
            "bias": jnp.zeros((d_out,), jnp.float32)}


def dense(p: dict, x: jax.Array) -> jax.Array:
    """x @ kernel + bias over the last axis of x (any leading axes), accumulated in float32
    (for bf16 inputs) and returned in x's dtype."""
    y = matmul_last(x, p["kernel"], preferred_element_type=jnp.float32).astype(x.dtype)
    return y + expand_to(p["bias"], x.ndim)


def expand_to(v: jax.Array, ndim: int) -> jax.Array:
    """A vector over the last axis, with leading size-1 axes (explicit rank promotion)."""
    return v.reshape((1,) * (ndim - v.ndim) + v.shape)


def init_self_attention(key: jax.Array, d_model: int, *, std: float | None = None,
                        out_std: float | None = None) -> dict:
    """One fused (D, 3D) query/key/value projection and a (D, D) output projection."""
    k_qkv, k_out = jax.random.split(key)
    return {"qkv": init_dense(k_qkv, d_model, 3 * d_model, std=std),
            "out": init_dense(k_out, d_model, d_model, std=out_std)}


def init_cross_attention(key: jax.Array, d_model: int) -> dict:
    """Queries from one sequence, fused keys/values (D, 2D) from another."""
    k_q, k_kv, k_out = jax.random.split(key, 3)
    return {"q": init_dense(k_q, d_model, d_model), "kv": init_dense(k_kv, d_model, 2 * d_model),
            "out": init_dense(k_out, d_model, d_model)}


def split_heads(x_BxTxD: jax.Array, num_heads: int) -> jax.Array:
    b, t, d = x_BxTxD.shape
    if d % num_heads:
        raise ValueError(f"model width {d} is not divisible by num_heads={num_heads}")
    return x_BxTxD.reshape(b, t, num_heads, d // num_heads)


def merge_heads(x_BxTxNxH: jax.Array) -> jax.Array:
    b, t, n, h = x_BxTxNxH.shape
    return x_BxTxNxH.reshape(b, t, n * h)


def project_qkv(p: dict, x_BxTxD: jax.Array, num_heads: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The fused projection, split into per-head queries, keys and values (B, T, N, H) each."""
    q, k, v = jnp.split(dense(p["qkv"], x_BxTxD), 3, axis=-1)
    return split_heads(q, num_heads), split_heads(k, num_heads), split_heads(v, num_heads)


def self_attention(
    p: dict, x_BxTxD: jax.Array, num_heads: int, mask: jax.Array | None = None, *,
    is_causal: bool = False, impl: str = "fast",
) -> jax.Array:
    """Multi-head self-attention: fused QKV projection, attention per head, output projection."""
    q, k, v = project_qkv(p, x_BxTxD, num_heads)
    o_BxTxNxH = attend(q, k, v, mask, is_causal=is_causal, impl=impl)
    return dense(p["out"], merge_heads(o_BxTxNxH))


def cross_attention(
    p: dict, x_BxTxD: jax.Array, memory_BxSxD: jax.Array, num_heads: int,
    mask: jax.Array | None = None, *, impl: str = "fast",
) -> jax.Array:
    """Multi-head attention of `x`'s queries over `memory`'s keys and values."""
    q = split_heads(dense(p["q"], x_BxTxD), num_heads)
    k, v = jnp.split(dense(p["kv"], memory_BxSxD), 2, axis=-1)
    o = attend(q, split_heads(k, num_heads), split_heads(v, num_heads), mask, impl=impl)
    return dense(p["out"], merge_heads(o))
