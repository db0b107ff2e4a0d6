"""Attention written out == jax.nn.dot_product_attention == flax.nnx.MultiHeadAttention."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxdl.models import attention as attn

B, T, S, N, H = 2, 5, 7, 3, 4
D = N * H


def _qkv(key, t=T, s=S):
    kq, kk, kv = jax.random.split(key, 3)
    return (jax.random.normal(kq, (B, t, N, H)), jax.random.normal(kk, (B, s, N, H)),
            jax.random.normal(kv, (B, s, N, H)))


def test_masks_shapes_and_values():
    m = attn.causal_mask(3)
    chex.assert_shape(m, (1, 1, 3, 3))
    np.testing.assert_array_equal(m[0, 0], np.tril(np.ones((3, 3), bool)))
    # Two queries at the end of four positions (two cached before them).
    np.testing.assert_array_equal(attn.causal_mask(2, 4)[0, 0], [[1, 1, 1, 0], [1, 1, 1, 1]])
    p = attn.padding_mask(jnp.array([[1, 1, 0], [1, 0, 0]]))
    chex.assert_shape(p, (2, 1, 1, 3))
    with pytest.raises(ValueError, match="num_keys >= num_queries"):
        attn.causal_mask(4, 2)


def test_weights_are_a_masked_softmax():
    q, k, _ = _qkv(jax.random.key(0))
    valid = jnp.array([[1] * S, [1] * 3 + [0] * (S - 3)])
    w = attn.attention_weights(q, k, attn.padding_mask(valid))
    chex.assert_shape(w, (B, N, T, S))
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-6)
    assert float(jnp.abs(w[1, :, :, 3:]).max()) == 0.0
    # By hand for one (batch, head, query).
    logits = q[0, 1, 2] @ k[0, :, 2].T / np.sqrt(H)
    np.testing.assert_allclose(w[0, 2, 1], jax.nn.softmax(logits), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("impl", attn.IMPLS)
@pytest.mark.parametrize("masking", ["none", "padding", "causal", "both"])
def test_both_impls_equal_jax_dot_product_attention(masking, impl, request):
    _library_if_fast(impl, request)
    t = s = T if masking in ("causal", "both") else None
    q, k, v = _qkv(jax.random.key(1), *( (t, s) if t else (T, S)))
    s_len = k.shape[1]
    valid = jnp.array([[1] * s_len, [1] * 2 + [0] * (s_len - 2)])
    mask = attn.padding_mask(valid) if masking in ("padding", "both") else None
    is_causal = masking in ("causal", "both")
    ref = jax.nn.dot_product_attention(q, k, v, mask=mask, is_causal=is_causal, implementation="xla")
    out = attn.attend(q, k, v, mask, is_causal=is_causal, impl=impl)
    chex.assert_trees_all_close(out, ref, atol=1e-5, rtol=1e-5)


def test_unknown_impl_is_rejected():
    q, k, v = _qkv(jax.random.key(0))
    with pytest.raises(ValueError, match="valid: fast, scratch"):
        attn.attend(q, k, v, impl="flash")


def _library_if_fast(impl, request):
    """impl="fast" runs the library call a GPU makes (on its XLA path here), not the CPU einsums."""
    if impl == "fast":
        request.getfixturevalue("library_attention")


def _fused_from_nnx(mha: nnx.MultiHeadAttention) -> dict:
    """nnx keeps separate (D, N, H) q/k/v kernels; ours is one (D, 3D) kernel."""
    p = nnx.to_pure_dict(nnx.state(mha, nnx.Param))
    kernel = jnp.concatenate([p[n]["kernel"].reshape(D, D) for n in ("query", "key", "value")], axis=1)
    bias = jnp.concatenate([p[n]["bias"].reshape(D) for n in ("query", "key", "value")])
    return {"qkv": {"kernel": kernel, "bias": bias},
            "out": {"kernel": p["out"]["kernel"].reshape(D, D), "bias": p["out"]["bias"]}}


@pytest.mark.parametrize("impl", attn.IMPLS)
@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_equals_nnx_multi_head_attention(impl, causal, request):
    _library_if_fast(impl, request)
    mha = nnx.MultiHeadAttention(num_heads=N, in_features=D, decode=False, rngs=nnx.Rngs(3))
    # Non-zero biases, so the test also checks where they enter.
    for name in ("query", "key", "value", "out"):
        layer = getattr(mha, name)
        layer.bias[...] = jax.random.normal(jax.random.key(len(name)), layer.bias.shape)
    x = jax.random.normal(jax.random.key(4), (B, T, D))
    valid = jnp.array([[1] * T, [1] * 3 + [0] * (T - 3)])
    mask = attn.padding_mask(valid)
    full_mask = attn.combine_masks(mask, attn.causal_mask(T)) if causal else mask
    ref = mha(x, mask=full_mask, deterministic=True)
    out = attn.self_attention(_fused_from_nnx(mha), x, N, mask, is_causal=causal, impl=impl)
    chex.assert_trees_all_close(out, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("impl", attn.IMPLS)
def test_cross_attention_equals_nnx_multi_head_attention(impl, request):
    _library_if_fast(impl, request)
    mha = nnx.MultiHeadAttention(num_heads=N, in_features=D, decode=False, rngs=nnx.Rngs(5))
    fused = _fused_from_nnx(mha)
    kern, bias = fused["qkv"]["kernel"], fused["qkv"]["bias"]
    p = {"q": {"kernel": kern[:, :D], "bias": bias[:D]},
         "kv": {"kernel": kern[:, D:], "bias": bias[D:]}, "out": fused["out"]}
    x = jax.random.normal(jax.random.key(6), (B, T, D))
    memory = jax.random.normal(jax.random.key(7), (B, S, D))
    mask = attn.padding_mask(jnp.array([[1] * S, [1] * 4 + [0] * (S - 4)]))
    ref = mha(x, memory, mask=mask, deterministic=True)
    chex.assert_trees_all_close(attn.cross_attention(p, x, memory, N, mask, impl=impl), ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("impl", attn.IMPLS)
def test_causal_self_attention_ignores_the_future(impl, request):
    _library_if_fast(impl, request)
    p = attn.init_self_attention(jax.random.key(0), D)
    x = jax.random.normal(jax.random.key(1), (B, T, D))
    y = attn.self_attention(p, x, N, is_causal=True, impl=impl)
    # Perturb position 3: outputs at 0..2 must not move, position 3 must.
    y2 = attn.self_attention(p, x.at[:, 3].add(10.0), N, is_causal=True, impl=impl)
    chex.assert_trees_all_close(y2[:, :3], y[:, :3], atol=1e-6)
    assert float(jnp.abs(y2[:, 3] - y[:, 3]).max()) > 1e-2


def test_width_not_divisible_by_heads_is_rejected():
    p = attn.init_self_attention(jax.random.key(0), 10)
    with pytest.raises(ValueError, match="not divisible by num_heads=3"):
        attn.self_attention(p, jnp.zeros((1, 2, 10)), 3)


def test_causal_query_blocks_equal_the_full_masked_softmax_and_its_gradients():
    q, k, v = _qkv(jax.random.key(3), 20, 20)
    w_out = jax.random.normal(jax.random.key(4), q.shape)

    def objective(run):
        return lambda q, k, v: jnp.sum(run(q, k, v) * w_out)

    def full(q, k, v):
        return attn.scaled_dot_product_attention(q, k, v, attn.causal_mask(20))

    def blocked(q, k, v):
        return attn.causal_attention(q, k, v, bounds=[0, 7, 12, 20])

    chex.assert_trees_all_close(blocked(q, k, v), full(q, k, v), rtol=1e-5, atol=1e-6)
    grads = [jax.grad(objective(f), argnums=(0, 1, 2))(q, k, v) for f in (blocked, full)]
    chex.assert_trees_all_close(*grads, rtol=1e-5, atol=1e-5)


def test_causal_query_bounds_are_at_most_four_blocks_of_64_queries():
    assert attn.causal_query_bounds(256) == [0, 64, 128, 192, 256]
    assert attn.causal_query_bounds(100) == [0, 64, 100]
    assert attn.causal_query_bounds(40) == [0, 40]
    assert attn.causal_query_bounds(1024) == [0, 256, 512, 768, 1024]
