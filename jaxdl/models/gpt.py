"""A decoder-only transformer language model (GPT), as pure functions over a parameter dict.

Blocks are pre-LayerNorm: x + attn(ln1(x)), then x + mlp(ln2(x)), with a GELU MLP
(4x wide), learned or rotary positions, optional tying of the output projection to
the token embedding, and dropout (embeddings and both residual branches) drawn
from explicit keys.

Layers are scanned: every block's parameters are stacked along a leading layer
axis and one `lax.scan` applies them, so XLA compiles one block whatever the
depth. We stack plain arrays and use `lax.scan` rather than `nnx.scan` because
the model is a parameter dict: the layer axis is just axis 0 of each leaf, the
same layout serves `jax.vmap` at init, the optimiser and checkpoints, and the KV
cache (L, B, S, N, H) is scanned alongside the parameters with no module state.

Compute dtype: the model computes in the dtype of its params. Mixed precision is
the train step's policy (`train.precision=bfloat16`, `jaxdl.train.precision`), which
hands it bf16 copies of the float32 params; LayerNorm statistics, softmax and the
output logits stay float32 whatever the params.

Generation keeps a preallocated KV cache: `extend` runs T new tokens at position
`pos` against the cache (T = prompt length to prefill, then 1 per step) and
`generate` samples inside one jitted `lax.scan`.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp

from jaxdl.models import attention as attn, positional, remat as rm
from jaxdl.models.dropout import inverted_dropout
from jaxdl.models.layers import gelu, init_layer_norm, layer_norm
from jaxdl.models.lm import LanguageModel
from jaxdl.models.matmul import matmul_last
from jaxdl.models.pure import PureModel
from jaxdl.models.sampling import sample_logits

POSITIONS = ("learned", "rotary")


@dataclasses.dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    context: int  # longest sequence (learned position table size; KV cache bound)
    num_layers: int = 4
    d_model: int = 128
    num_heads: int = 4
    mlp_ratio: int = 4
    dropout: float = 0.0
    positions: str = "learned"
    tie_weights: bool = True
    attention: str = "fast"  # attn.IMPLS
    remat: str = "none"  # rm.POLICIES: recompute each block's activations in the backward pass

    def __post_init__(self):
        if self.positions not in POSITIONS:
            raise ValueError(f"unknown positions {self.positions!r}; valid: {', '.join(POSITIONS)}")
        if self.attention not in attn.IMPLS:
            raise ValueError(f"unknown attention {self.attention!r}; valid: {', '.join(attn.IMPLS)}")
        rm.policy_name(self.remat)
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by num_heads={self.num_heads}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        for name in ("vocab_size", "context", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @property
    def head_size(self) -> int:
        return self.d_model // self.num_heads


def init(key: jax.Array, cfg: GPTConfig) -> dict:
    """GPT-2's initialisation: N(0, 0.02) weights, residual projections N(0, 0.02/sqrt(2L))."""
    std, out_std = 0.02, 0.02 / math.sqrt(2 * cfg.num_layers)
    d, hidden = cfg.d_model, cfg.mlp_ratio * cfg.d_model
    k_tok, k_pos, k_blocks, k_head = jax.random.split(key, 4)

    def init_block(k):
        k_attn, k_fc, k_proj = jax.random.split(k, 3)
        return {
            "ln1": init_layer_norm(d),
            "attn": attn.init_self_attention(k_attn, d, std=std, out_std=out_std),
            "ln2": init_layer_norm(d),
            "mlp": {"fc": attn.init_dense(k_fc, d, hidden, std=std),
                    "proj": attn.init_dense(k_proj, hidden, d, std=out_std)},
        }

    params = {
        "embed": {"tokens": std * jax.random.normal(k_tok, (cfg.vocab_size, d), jnp.float32)},
        # One block's init vmapped over L keys: every leaf gets a leading layer axis.
        "blocks": jax.vmap(init_block)(jax.random.split(k_blocks, cfg.num_layers)),
        "ln_f": init_layer_norm(d),
    }
    if cfg.positions == "learned":
        params["embed"]["positions"] = std * jax.random.normal(k_pos, (cfg.context, d), jnp.float32)
    if not cfg.tie_weights:
        params["head"] = {"kernel": std * jax.random.normal(k_head, (d, cfg.vocab_size), jnp.float32)}
    return params


def _block(p: dict, x_BxTxD: jax.Array, positions_T: jax.Array, cfg: GPTConfig, key: jax.Array | None,
           cache: dict | None, pos: jax.Array | None):
    """One pre-LN block. Without a cache: causal self-attention over x. With one: x's T
    tokens sit at positions pos..pos+T-1; their keys/values are written into the cache
    and they attend to everything cached up to themselves. Returns (x, new cache)."""
    drop = cfg.dropout > 0.0 and key is not None
    k_attn, k_mlp = jax.random.split(key) if drop else (None, None)
    h = layer_norm(p["ln1"], x_BxTxD)
    q, k, v = attn.project_qkv(p["attn"], h, cfg.num_heads)
    if cfg.positions == "rotary":
        q, k = positional.rotary(q, positions_T), positional.rotary(k, positions_T)
    if cache is None:
        o = attn.attend(q, k, v, is_causal=True, impl=cfg.attention)
    else:
        # A ring buffer: one-token steps past the end wrap around and overwrite the oldest
        # slot, so with rotary positions generation can run past the cache length.
        start = (0, pos % cache["k"].shape[1], 0, 0)
        cache = {"k": jax.lax.dynamic_update_slice(cache["k"], k.astype(cache["k"].dtype), start),
                 "v": jax.lax.dynamic_update_slice(cache["v"], v.astype(cache["v"].dtype), start)}
        t, s = x_BxTxD.shape[1], cache["k"].shape[1]
        # Query i (at pos + i) sees cached keys j <= pos + i; slots past that are empty
        # (once the ring buffer has wrapped, every slot holds one of the last S keys).
        mask = (jnp.arange(s)[None, :] <= pos + jnp.arange(t)[:, None])[None, None]
        o = attn.attend(q, cache["k"].astype(q.dtype), cache["v"].astype(q.dtype), mask, impl=cfg.attention)
    y = attn.dense(p["attn"]["out"], attn.merge_heads(o))
    x_BxTxD = x_BxTxD + (inverted_dropout(y, cfg.dropout, k_attn) if drop else y)
    h = layer_norm(p["ln2"], x_BxTxD)
    y = attn.dense(p["mlp"]["proj"], gelu(attn.dense(p["mlp"]["fc"], h)))
    x_BxTxD = x_BxTxD + (inverted_dropout(y, cfg.dropout, k_mlp) if drop else y)
    return x_BxTxD, cache


def _run(params: dict, tokens_BxT: jax.Array, cfg: GPTConfig, *, key: jax.Array | None,
         cache: dict | None, pos: jax.Array):
    """Embeddings, the scanned blocks and the output head; logits are float32 (B, T, V)."""
    t = tokens_BxT.shape[1]
    positions_T = pos + jnp.arange(t)
    x = params["embed"]["tokens"][tokens_BxT]
    if cfg.positions == "learned":
        x = x + jax.lax.dynamic_slice_in_dim(params["embed"]["positions"], pos, t)[None]
    layer_keys = None
    if key is not None and cfg.dropout > 0.0:
        key, k_embed = jax.random.split(key)
        x = inverted_dropout(x, cfg.dropout, k_embed)
        layer_keys = jax.random.split(key, cfg.num_layers)
    blocks = params["blocks"]

    def body(x, layer):
        p, k, c = layer
        x, c = _block(p, x, positions_T, cfg, k, c, None if cache is None else pos)
        return x, c

    x, new_cache = jax.lax.scan(rm.wrap(body, cfg.remat), x, (blocks, layer_keys, cache))
    x = layer_norm(params["ln_f"], x)
    head = params["embed"]["tokens"].T if cfg.tie_weights else params["head"]["kernel"]
    logits = matmul_last(x, head, preferred_element_type=jnp.float32)
    return logits, new_cache


def apply(params: dict, tokens_BxT: jax.Array, cfg: GPTConfig, *, key: jax.Array | None = None,
          train: bool = False) -> jax.Array:
    """Next-token logits (B, T, V) for every position of `tokens_BxT` (T <= context)."""
    if tokens_BxT.ndim != 2 or tokens_BxT.shape[1] > cfg.context:
        raise ValueError(f"gpt expects tokens of shape (batch, T <= {cfg.context}); got {tokens_BxT.shape}")
    if train and cfg.dropout > 0.0 and key is None:
        raise ValueError("gpt: apply(train=True) with dropout needs a `key`")
    logits, _ = _run(params, tokens_BxT, cfg, key=key if train else None, cache=None, pos=jnp.int32(0))
    return logits


def attention_weights(params: dict, tokens_BxT: jax.Array, cfg: GPTConfig, layer: int) -> jax.Array:
    """(B, N, T, T) causal attention weights of block `layer` (for attention maps)."""
    if not 0 <= layer < cfg.num_layers:
        raise ValueError(f"layer must be in [0, {cfg.num_layers}), got {layer}")
    t = tokens_BxT.shape[1]
    positions_T = jnp.arange(t)
    x = params["embed"]["tokens"][tokens_BxT]
    if cfg.positions == "learned":
        x = x + params["embed"]["positions"][None, :t]
    for i in range(layer):  # unrolled: this is for plots, not training
        x, _ = _block(jax.tree.map(lambda a: a[i], params["blocks"]), x, positions_T, cfg, None, None, None)
    p = jax.tree.map(lambda a: a[layer], params["blocks"])
    q, k, _ = attn.project_qkv(p["attn"], layer_norm(p["ln1"], x), cfg.num_heads)
    if cfg.positions == "rotary":
        q, k = positional.rotary(q, positions_T), positional.rotary(k, positions_T)
    return attn.attention_weights(q, k, attn.causal_mask(t))


def make(cfg: GPTConfig, name: str = "gpt") -> PureModel:
    """The GPT as a `PureModel` over token windows of length `cfg.context`."""
    return PureModel(name, dataclasses.asdict(cfg), (cfg.context,),
                     functools.partial(init, cfg=cfg), functools.partial(apply, cfg=cfg))


# --- generation with a KV cache -------------------------------------------------------------


def init_cache(cfg: GPTConfig, batch: int, length: int, dtype=jnp.float32) -> dict:
    """Zeroed keys and values for `length` positions: {"k", "v"} of shape (L, B, S, N, H), in
    `dtype` (the params' dtype)."""
    if length > cfg.context and cfg.positions == "learned":
        raise ValueError(f"a cache of {length} positions exceeds the learned position table ({cfg.context})")
    shape = (cfg.num_layers, batch, length, cfg.num_heads, cfg.head_size)
    return {"k": jnp.zeros(shape, dtype), "v": jnp.zeros(shape, dtype)}


def extend(params: dict, cache: dict, tokens_BxT: jax.Array, pos: jax.Array, cfg: GPTConfig):
    """Runs tokens at positions pos..pos+T-1 against the cache: (logits (B, T, V), cache).

    Several tokens need pos + T <= S (the cache length); single tokens may go past S
    (ring buffer: each then attends to the last S positions), which only rotary
    positions support."""
    return _run(params, tokens_BxT, cfg, key=None, cache=cache, pos=jnp.asarray(pos, jnp.int32))


def language_model(vocab_size: int, seq_len: int, *, decode: str = "exact", **hparams) -> LanguageModel:
    """The GPT behind `jaxdl.models.lm`'s interface (char_lm task, `jaxdl generate`).

    Decoding keeps a KV cache of `seq_len` (the context) slots. Past the context (rotary only),
    `decode="exact"` runs the model on the last `seq_len` tokens at every step (nanoGPT's
    `generate`); `decode="ring"` keeps extending the KV ring buffer: faster, but approximate
    (deeper layers' cached keys saw longer contexts; logits drift ~1e-2 on a 2-layer model).
    """
    if decode not in ("exact", "ring"):
        raise ValueError(f"decode={decode!r}; valid: exact, ring")
    # Runs saved before `train.precision` replaced the model's compute_dtype still restore.
    hparams.pop("compute_dtype", None)
    cfg = GPTConfig(vocab_size=vocab_size, context=seq_len, **hparams)
    model = make(cfg)

    def lm_init_cache(params, batch_size: int, max_len: int) -> dict:
        if cfg.positions == "learned" and max_len > cfg.context:
            raise ValueError(f"a GPT with learned positions decodes at most its context ({cfg.context}) "
                             f"tokens, asked for {max_len}; train with model.positions=rotary to go further")
        kv = init_cache(cfg, batch_size, min(max_len, cfg.context), params["embed"]["tokens"].dtype)
        return {**kv, "pos": jnp.int32(0),
                "window": jnp.zeros((batch_size, cfg.context), jnp.int32)}

    def cached(params, cache: dict, ids_B: jax.Array):
        logits, kv = extend(params, {"k": cache["k"], "v": cache["v"]}, ids_B[:, None], cache["pos"], cfg)
        window = cache["window"].at[:, jnp.minimum(cache["pos"], cfg.context - 1)].set(ids_B)
        return {**kv, "pos": cache["pos"] + 1, "window": window}, logits[:, 0].astype(jnp.float32)

    def recomputed(params, cache: dict, ids_B: jax.Array):
        window = jnp.concatenate([cache["window"][:, 1:], ids_B[:, None].astype(jnp.int32)], axis=1)
        logits = model.apply(params, window)[:, -1]
        return {**cache, "pos": cache["pos"] + 1, "window": window}, logits.astype(jnp.float32)

    def lm_step(params, cache: dict, ids_B: jax.Array):
        if decode == "ring":
            return cached(params, cache, ids_B)
        return jax.lax.cond(cache["pos"] < cfg.context, cached, recomputed, params, cache, ids_B)

    return LanguageModel(model=model, vocab_size=vocab_size, init_cache=lm_init_cache, step=lm_step)


@functools.partial(jax.jit, static_argnames=("cfg", "num_new", "top_k"))
def generate(params: dict, key: jax.Array, prompt_BxP: jax.Array, *, cfg: GPTConfig, num_new: int,
             temperature: float | jax.Array = 1.0, top_k: int = 0) -> jax.Array:
    """prompt + `num_new` sampled tokens (B, P + num_new), P + num_new <= context.

    The prompt fills the cache in one pass; each new token is one `extend` step of a scan."""
    b, p = prompt_BxP.shape
    if num_new < 1 or p + num_new > cfg.context:
        raise ValueError(f"need 1 <= num_new and prompt + num_new <= context ({cfg.context}); "
                         f"got {p} + {num_new}")
    keys = jax.random.split(key, num_new)
    cache = init_cache(cfg, b, p + num_new, params["embed"]["tokens"].dtype)
    logits, cache = extend(params, cache, prompt_BxP, 0, cfg)
    first = sample_logits(keys[0], logits[:, -1], temperature, top_k)

    def step(carry, key_t):
        cache, token_B, pos = carry
        logits, cache = extend(params, cache, token_B[:, None], pos, cfg)
        nxt = sample_logits(key_t, logits[:, 0], temperature, top_k)
        return (cache, nxt, pos + 1), token_B

    (_, last, _), tokens_NxB = jax.lax.scan(step, (cache, first, jnp.int32(p)), keys[1:])
    new_BxN = jnp.concatenate([tokens_NxB.T, last[:, None]], axis=1)
    return jnp.concatenate([prompt_BxP.astype(jnp.int32), new_BxN], axis=1)


def generate_long(params: dict, key: jax.Array, prompt_BxP: jax.Array, *, cfg: GPTConfig, num_new: int,
                  temperature: float = 1.0, top_k: int = 0) -> jax.Array:
    """Like `generate` but for any length: when the context is full, the last half of it
    becomes the prompt of the next cached run (a sliding window, as a GPT is trained)."""
    out = jnp.asarray(prompt_BxP, jnp.int32)
    keep = max(1, cfg.context // 2)
    while out.shape[1] - prompt_BxP.shape[1] < num_new:
        key, k = jax.random.split(key)
        window = out[:, -keep:] if out.shape[1] > keep else out
        n = min(num_new - (out.shape[1] - prompt_BxP.shape[1]), cfg.context - window.shape[1])
        new = generate(params, k, window, cfg=cfg, num_new=n, temperature=temperature, top_k=top_k)
        out = jnp.concatenate([out, new[:, window.shape[1]:]], axis=1)
    return out
