"""Encoder-decoder transformer: masks, greedy decoding, label smoothing, learning to copy."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.data import text
from jaxdl.models import transformer as tfm

# Jitted: eager op-by-op dispatch of the scanned stacks is what makes these tests slow.
apply = jax.jit(tfm.apply, static_argnames=("cfg", "train"))
CFG = tfm.TransformerConfig(src_vocab=9, tgt_vocab=7, max_len=12, num_layers=2, d_model=32, num_heads=4,
                            d_ff=64, dropout=0.0)


def _batch(key, b=3, s=6, t=5):
    k1, k2 = jax.random.split(key)
    src = jax.random.randint(k1, (b, s), 4, CFG.src_vocab).at[1, 4:].set(0)  # row 1 padded
    tgt = jax.random.randint(k2, (b, t), 4, CFG.tgt_vocab).at[:, 0].set(text.BOS)
    return src, tgt


def test_shapes_and_stacked_layers():
    params = tfm.init(jax.random.key(0), CFG)
    chex.assert_shape(params["decoder"]["cross_attn"]["kv"]["kernel"], (2, 32, 64))
    src, tgt = _batch(jax.random.key(1))
    chex.assert_shape(apply(params, src, tgt, CFG), (3, 5, 7))


@pytest.mark.parametrize("impl", ["fast", "scratch"])
def test_decoder_is_causal_and_padding_is_invisible(impl, request):
    if impl == "fast":
        request.getfixturevalue("library_attention")
    cfg = tfm.TransformerConfig(**{**CFG.__dict__, "attention": impl})
    params = tfm.init(jax.random.key(2), cfg)
    src, tgt = _batch(jax.random.key(3))
    y = apply(params, src, tgt, cfg)
    y_future = apply(params, src, tgt.at[:, 3].set(5), cfg)
    chex.assert_trees_all_close(y_future[:, :3], y[:, :3], atol=1e-6)
    # More padding columns on the source change nothing.
    y_padded = apply(params, jnp.pad(src, ((0, 0), (0, 3))), tgt, cfg)
    chex.assert_trees_all_close(y_padded, y, atol=1e-5)
    # The source does matter.
    assert float(jnp.abs(apply(params, src.at[:, 0].set(5), tgt, cfg) - y).max()) > 1e-4


def test_fast_and_scratch_attention_agree(library_attention):
    params = tfm.init(jax.random.key(4), CFG)
    src, tgt = _batch(jax.random.key(5))
    scratch = tfm.TransformerConfig(**{**CFG.__dict__, "attention": "scratch"})
    chex.assert_trees_all_close(apply(params, src, tgt, CFG), apply(params, src, tgt, scratch),
                                atol=1e-5)


def test_greedy_decode_equals_step_by_step_argmax():
    params = tfm.init(jax.random.key(6), CFG)
    src, _ = _batch(jax.random.key(7))
    out = tfm.greedy_decode(params, src, cfg=CFG, length=6, bos=text.BOS)
    seq = jnp.full((3, 1), text.BOS, jnp.int32)
    for _ in range(6):
        nxt = jnp.argmax(apply(params, src, seq, CFG)[:, -1], axis=-1).astype(jnp.int32)
        seq = jnp.concatenate([seq, nxt[:, None]], axis=1)
    chex.assert_trees_all_equal(out, seq[:, 1:])


def test_label_smoothing_equals_optax():
    logits = jax.random.normal(jax.random.key(8), (2, 3, 7))
    labels = jnp.array([[1, 2, 3], [4, 5, 6]])
    ours = tfm.label_smoothed_cross_entropy(logits, labels, 0.1)
    ref = optax.softmax_cross_entropy(logits, optax.smooth_labels(jax.nn.one_hot(labels, 7), 0.1))
    chex.assert_trees_all_close(ours, ref, atol=1e-6)
    chex.assert_trees_all_close(tfm.label_smoothed_cross_entropy(logits, labels, 0.0),
                                optax.softmax_cross_entropy_with_integer_labels(logits, labels), atol=1e-6)


def test_dropout_needs_a_key():
    cfg = tfm.TransformerConfig(**{**CFG.__dict__, "dropout": 0.3})
    params = tfm.init(jax.random.key(9), cfg)
    src, tgt = _batch(jax.random.key(10))
    with pytest.raises(ValueError, match="needs a `key`"):
        apply(params, src, tgt, cfg, train=True)
    a = apply(params, src, tgt, cfg, key=jax.random.key(0), train=True)
    assert float(jnp.abs(a - apply(params, src, tgt, cfg)).max()) > 1e-3


@pytest.mark.slow
def test_learns_the_copy_task_to_100_percent_on_short_sequences():
    cfg = tfm.TransformerConfig(src_vocab=9, tgt_vocab=9, max_len=8, num_layers=2, d_model=32, num_heads=4,
                                d_ff=64, dropout=0.0)
    rng = np.random.default_rng(0)

    def pairs(n):
        src = rng.integers(4, 9, size=(n, 5))
        tgt = np.concatenate([np.full((n, 1), text.BOS), src, np.full((n, 1), text.EOS)], axis=1)
        return jnp.asarray(src, jnp.int32), jnp.asarray(tgt, jnp.int32)

    params = tfm.init(jax.random.key(0), cfg)
    tx = optax.adam(3e-3)
    opt_state = tx.init(params)

    @jax.jit
    def train(params, opt_state, key):
        def step(carry, k):
            params, opt_state = carry
            idx = jax.random.randint(k, (64,), 0, src_tr.shape[0])
            s, t = src_tr[idx], tgt_tr[idx]

            def loss_fn(p):
                logits = apply(p, s, t[:, :-1], cfg)
                return optax.softmax_cross_entropy_with_integer_labels(logits, t[:, 1:]).mean()

            grads = jax.grad(loss_fn)(params)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        (params, opt_state), _ = jax.lax.scan(step, (params, opt_state), jax.random.split(key, 600))
        return params, opt_state

    src_tr, tgt_tr = pairs(2000)
    params, opt_state = train(params, opt_state, jax.random.key(1))
    src_te, tgt_te = pairs(200)
    pred = tfm.greedy_decode(params, src_te, cfg=cfg, length=6, bos=text.BOS)
    exact = np.mean(np.all(np.asarray(pred) == np.asarray(tgt_te[:, 1:]), axis=1))
    assert exact == 1.0
