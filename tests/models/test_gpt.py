"""GPT: shapes, causality, KV-cache decoding == full recompute, sampling, overfitting a string."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.models import gpt, sampling

# Jitted: eager op-by-op dispatch of the scanned blocks is what makes these tests slow.
apply = jax.jit(gpt.apply, static_argnames=("cfg", "train"))
CFG = gpt.GPTConfig(vocab_size=11, context=16, num_layers=2, d_model=32, num_heads=4)


def _tokens(key, b=2, t=12, cfg=CFG):
    return jax.random.randint(key, (b, t), 0, cfg.vocab_size)


def test_param_shapes_are_stacked_over_layers():
    params = gpt.init(jax.random.key(0), CFG)
    blocks = params["blocks"]
    chex.assert_shape(blocks["attn"]["qkv"]["kernel"], (2, 32, 96))
    chex.assert_shape(blocks["mlp"]["fc"]["kernel"], (2, 32, 128))
    chex.assert_shape(blocks["ln1"]["scale"], (2, 32))
    assert "head" not in params  # tied to the token embedding
    untied = gpt.init(jax.random.key(0), gpt.GPTConfig(**{**CFG.__dict__, "tie_weights": False,
                                                          "positions": "rotary"}))
    chex.assert_shape(untied["head"]["kernel"], (32, 11))
    assert "positions" not in untied["embed"]


@pytest.mark.parametrize("positions", gpt.POSITIONS)
@pytest.mark.parametrize("impl", ["fast", "scratch"])
def test_changing_a_future_token_leaves_past_logits_unchanged(positions, impl, request):
    if impl == "fast":
        request.getfixturevalue("library_attention")
    cfg = gpt.GPTConfig(**{**CFG.__dict__, "positions": positions, "attention": impl})
    params = gpt.init(jax.random.key(1), cfg)
    x = _tokens(jax.random.key(2), cfg=cfg)
    y = apply(params, x, cfg)
    chex.assert_shape(y, (2, 12, 11))
    x2 = x.at[:, 7].set((x[:, 7] + 1) % cfg.vocab_size)
    y2 = apply(params, x2, cfg)
    chex.assert_trees_all_close(y2[:, :7], y[:, :7], atol=1e-6)
    assert float(jnp.abs(y2[:, 7:] - y[:, 7:]).max()) > 1e-4


def test_fast_and_scratch_attention_give_the_same_model(library_attention):
    params = gpt.init(jax.random.key(3), CFG)
    x = _tokens(jax.random.key(4))
    scratch = gpt.GPTConfig(**{**CFG.__dict__, "attention": "scratch"})
    chex.assert_trees_all_close(apply(params, x, CFG), apply(params, x, scratch), atol=1e-5)


def test_every_layer_of_the_stack_is_used():
    # The scan must apply every layer's slice of the stacked params: each gets a gradient.
    params = gpt.init(jax.random.key(5), CFG)
    x = _tokens(jax.random.key(6))
    grads = jax.grad(lambda p: apply(p, x, CFG).sum())(params)
    per_layer = jnp.abs(grads["blocks"]["attn"]["qkv"]["kernel"]).sum(axis=(1, 2))
    assert bool(jnp.all(per_layer > 0))


def _bf16(params):
    # What the train step's bfloat16 policy hands the model.
    return jax.tree.map(lambda a: a.astype(jnp.bfloat16), params)


def test_bfloat16_params_compute_in_bf16_with_float32_logits():
    params = gpt.init(jax.random.key(7), CFG)
    assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(params))
    x = _tokens(jax.random.key(8))
    y = apply(_bf16(params), x, CFG)
    assert y.dtype == jnp.float32
    # Measured: 1.7e-3 max abs difference on logits of magnitude ~0.5.
    chex.assert_trees_all_close(y, apply(params, x, CFG), atol=5e-3)


def test_dropout_needs_a_key_and_uses_it():
    cfg = gpt.GPTConfig(**{**CFG.__dict__, "dropout": 0.5})
    params = gpt.init(jax.random.key(9), cfg)
    x = _tokens(jax.random.key(10))
    with pytest.raises(ValueError, match="needs a `key`"):
        apply(params, x, cfg, train=True)
    a = apply(params, x, cfg, key=jax.random.key(1), train=True)
    b = apply(params, x, cfg, key=jax.random.key(1), train=True)
    c = apply(params, x, cfg, key=jax.random.key(2), train=True)
    chex.assert_trees_all_equal(a, b)
    assert float(jnp.abs(a - c).max()) > 1e-3
    # Evaluation ignores dropout.
    chex.assert_trees_all_close(apply(params, x, cfg, key=jax.random.key(1)), apply(params, x, cfg))


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError, match="valid: learned, rotary"):
        gpt.GPTConfig(vocab_size=3, context=4, positions="alibi")
    with pytest.raises(ValueError, match="not divisible by num_heads=5"):
        gpt.GPTConfig(vocab_size=3, context=4, d_model=32, num_heads=5)
    with pytest.raises(ValueError, match=r"T <= 16"):
        apply(gpt.init(jax.random.key(0), CFG), jnp.zeros((1, 17), jnp.int32), CFG)


@pytest.mark.parametrize("positions", gpt.POSITIONS)
@pytest.mark.parametrize("compute_dtype", ["float32", "bfloat16"])
def test_kv_cache_decoding_equals_full_recompute(positions, compute_dtype):
    cfg = gpt.GPTConfig(**{**CFG.__dict__, "positions": positions})
    params = gpt.init(jax.random.key(11), cfg)
    if compute_dtype == "bfloat16":
        params = _bf16(params)
    x = _tokens(jax.random.key(12), t=cfg.context, cfg=cfg)
    full = apply(params, x, cfg)
    prompt = 5
    cache = gpt.init_cache(cfg, 2, cfg.context, params["embed"]["tokens"].dtype)
    step = jax.jit(gpt.extend, static_argnames="cfg")
    logits, cache = step(params, cache, x[:, :prompt], 0, cfg=cfg)
    tol = 1e-5 if compute_dtype == "float32" else 5e-2
    chex.assert_trees_all_close(logits, full[:, :prompt], atol=tol)
    for pos in range(prompt, cfg.context):  # one token at a time, several steps
        logits, cache = step(params, cache, x[:, pos:pos + 1], pos, cfg=cfg)
        chex.assert_trees_all_close(logits[:, 0], full[:, pos], atol=tol)


def test_greedy_generation_equals_argmax_of_full_recompute():
    params = gpt.init(jax.random.key(13), CFG)
    prompt = _tokens(jax.random.key(14), t=4)
    out = gpt.generate(params, jax.random.key(0), prompt, cfg=CFG, num_new=8, temperature=0.0)
    chex.assert_shape(out, (2, 12))
    chex.assert_trees_all_equal(out[:, :4], prompt)
    seq = prompt
    for _ in range(8):  # the slow way: recompute everything for each token
        nxt = jnp.argmax(apply(params, seq, CFG)[:, -1], axis=-1)
        seq = jnp.concatenate([seq, nxt[:, None].astype(seq.dtype)], axis=1)
    chex.assert_trees_all_equal(out, seq)


def test_generate_long_slides_the_window():
    params = gpt.init(jax.random.key(15), CFG)
    out = gpt.generate_long(params, jax.random.key(1), jnp.zeros((1, 3), jnp.int32), cfg=CFG, num_new=40)
    chex.assert_shape(out, (1, 43))
    assert int(out.min()) >= 0 and int(out.max()) < CFG.vocab_size


def test_lm_overfits_a_short_string():
    text = "hello jax, hello attention. "
    vocab = sorted(set(text))
    ids = jnp.array([vocab.index(c) for c in text * 2])
    cfg = gpt.GPTConfig(vocab_size=len(vocab), context=32, num_layers=2, d_model=32, num_heads=2)
    x, y = ids[None, :32], ids[None, 1:33]
    params = gpt.init(jax.random.key(0), cfg)
    tx = optax.adamw(3e-3, weight_decay=0.0)

    @jax.jit
    def step(params, opt_state):
        def loss_fn(p):
            return optax.softmax_cross_entropy_with_integer_labels(apply(p, x, cfg), y).mean()
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    opt_state = tx.init(params)
    for _ in range(300):
        params, opt_state, loss = step(params, opt_state)
    assert float(loss) < 0.05
    # Greedy continuation of the first character reproduces the string.
    out = gpt.generate(params, jax.random.key(0), ids[None, :1], cfg=cfg, num_new=31, temperature=0.0)
    assert "".join(vocab[i] for i in np.asarray(out[0])) == "".join(vocab[i] for i in np.asarray(ids[:32]))


def test_language_model_steps_equal_full_recompute_and_wrap_with_rotary():
    from jaxdl.models import sampling

    lm = gpt.language_model(11, 8, num_layers=2, d_model=32, num_heads=4, positions="rotary")
    cfg = gpt.GPTConfig(vocab_size=11, context=8, num_layers=2, d_model=32, num_heads=4, positions="rotary")
    params = lm.model.init(jax.random.key(0))
    x = _tokens(jax.random.key(1), t=8, cfg=cfg)
    full = apply(params, x, cfg)
    cache = lm.init_cache(params, 2, 100)  # capped at the context: a ring buffer of 8 slots
    chex.assert_shape(cache["k"], (2, 2, 8, 4, 8))
    step = jax.jit(lm.step)
    for t in range(8):
        cache, logits = step(params, cache, x[:, t])
        chex.assert_trees_all_close(logits, full[:, t], atol=1e-5)
    out = sampling.generate(lm, params, jax.random.key(2), x[:, :3], 20, 1.0, 0)
    chex.assert_shape(out, (2, 20))
    learned = gpt.language_model(11, 8, num_layers=1, d_model=32, num_heads=4)
    with pytest.raises(ValueError, match="model.positions=rotary"):
        learned.init_cache(None, 1, 9)


def test_decoding_past_the_context_equals_recomputing_the_last_context_tokens():
    # nanoGPT's generate: every step runs the model on the last `context` tokens. A 2-layer model,
    # context 8, 3 + 17 tokens: the cache covers the first 8, then every step is past the context.
    kw = dict(num_layers=2, d_model=32, num_heads=4, positions="rotary")
    lm = gpt.language_model(11, 8, **kw)
    cfg = gpt.GPTConfig(vocab_size=11, context=8, **kw)
    params = lm.model.init(jax.random.key(0))
    tokens = _tokens(jax.random.key(1), t=20, cfg=cfg)
    step, ring_step = jax.jit(lm.step), jax.jit(gpt.language_model(11, 8, decode="ring", **kw).step)
    cache = ring = lm.init_cache(params, 2, 20)
    drift = 0.0
    for t in range(20):
        cache, logits = step(params, cache, tokens[:, t])
        ring, ring_logits = ring_step(params, ring, tokens[:, t])
        expected = apply(params, tokens[:, max(0, t + 1 - 8): t + 1], cfg)[:, -1]
        chex.assert_trees_all_close(logits, expected, atol=1e-5)
        drift = max(drift, float(jnp.abs(ring_logits - expected).max()))
    assert drift > 1e-3  # the opt-in ring buffer is an approximation past the context
    greedy = sampling.generate(lm, params, jax.random.key(3), tokens[:, :3], 17, 0.0, 0)
    window = tokens[:, :3]
    for _ in range(17):  # greedy decoding by full recomputation, one token at a time
        nxt = jnp.argmax(apply(params, window[:, -8:], cfg)[:, -1], axis=-1)
        window = jnp.concatenate([window, nxt[:, None].astype(window.dtype)], axis=1)
    chex.assert_trees_all_equal(greedy, window[:, 3:].astype(greedy.dtype))

