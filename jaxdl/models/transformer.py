"""The encoder-decoder transformer of "Attention is all you need", as in the Annotated Transformer.

Pre-LayerNorm sublayers, `x + dropout(sublayer(norm(x)))`, with a final norm on
each stack (the Annotated Transformer's layout); embeddings scaled by sqrt(D) plus
the sinusoidal position table; the target embedding shared with the output
projection (the paper's weight sharing). Encoder and decoder layers are stacked
along a leading axis and scanned with `lax.scan`, as in `jaxdl.models.gpt`.

Token id 0 is padding everywhere: a source key with id 0 is masked out of every
attention, and target positions with id 0 carry no loss.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp

from jaxdl.models import attention as attn, positional
from jaxdl.models.dropout import inverted_dropout
from jaxdl.models.layers import init_layer_norm, layer_norm
from jaxdl.models.matmul import matmul_last
from jaxdl.models.pure import PureModel

PAD = 0


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    src_vocab: int
    tgt_vocab: int
    max_len: int  # longest source or target sequence (position table size)
    num_layers: int = 2  # per stack
    d_model: int = 128
    num_heads: int = 4
    d_ff: int = 512
    dropout: float = 0.1
    attention: str = "fast"  # attn.IMPLS

    def __post_init__(self):
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by num_heads={self.num_heads}")
        if self.attention not in attn.IMPLS:
            raise ValueError(f"unknown attention {self.attention!r}; valid: {', '.join(attn.IMPLS)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


def init(key: jax.Array, cfg: TransformerConfig) -> dict:
    d = cfg.d_model
    k_src, k_tgt, k_enc, k_dec = jax.random.split(key, 4)

    def mlp(k):
        k1, k2 = jax.random.split(k)
        return {"fc": attn.init_dense(k1, d, cfg.d_ff), "proj": attn.init_dense(k2, cfg.d_ff, d)}

    def enc_layer(k):
        k1, k2 = jax.random.split(k)
        return {"ln1": init_layer_norm(d), "attn": attn.init_self_attention(k1, d),
                "ln2": init_layer_norm(d), "mlp": mlp(k2)}

    def dec_layer(k):
        k1, k2, k3 = jax.random.split(k, 3)
        return {"ln1": init_layer_norm(d), "self_attn": attn.init_self_attention(k1, d),
                "ln2": init_layer_norm(d), "cross_attn": attn.init_cross_attention(k2, d),
                "ln3": init_layer_norm(d), "mlp": mlp(k3)}

    # Embeddings N(0, 1/D): times sqrt(D) they enter at unit scale, and as the tied
    # output projection they give logits of unit scale.
    std = d ** -0.5
    return {
        "src_embed": std * jax.random.normal(k_src, (cfg.src_vocab, d), jnp.float32),
        "tgt_embed": std * jax.random.normal(k_tgt, (cfg.tgt_vocab, d), jnp.float32),
        "encoder": jax.vmap(enc_layer)(jax.random.split(k_enc, cfg.num_layers)),
        "enc_ln": init_layer_norm(d),
        "decoder": jax.vmap(dec_layer)(jax.random.split(k_dec, cfg.num_layers)),
        "dec_ln": init_layer_norm(d),
    }


def _embed(table: jax.Array, tokens_BxT: jax.Array, cfg: TransformerConfig) -> jax.Array:
    t = tokens_BxT.shape[1]
    if t > cfg.max_len:
        raise ValueError(f"sequence of length {t} exceeds max_len={cfg.max_len}")
    return table[tokens_BxT] * math.sqrt(cfg.d_model) + positional.sinusoidal(t, cfg.d_model)[None]


def _residual(x, y, cfg, key):
    return x + (inverted_dropout(y, cfg.dropout, key) if key is not None else y)


def _mlp(p, h):
    return attn.dense(p["proj"], jax.nn.relu(attn.dense(p["fc"], h)))


def _layer_keys(key: jax.Array | None, cfg: TransformerConfig, per_layer: int):
    """(key for the embeddings, (L, per_layer) keys) or Nones when dropout is off."""
    if key is None or cfg.dropout == 0.0:
        return None, None
    k_embed, k_layers = jax.random.split(key)
    return k_embed, jax.random.split(k_layers, (cfg.num_layers, per_layer))


def encode(params: dict, src_BxS: jax.Array, cfg: TransformerConfig, *, key: jax.Array | None = None) -> jax.Array:
    """The encoder's output (B, S, D); `key` (training) turns dropout on."""
    mask = attn.padding_mask(src_BxS != PAD)
    k_embed, keys = _layer_keys(key, cfg, 2)
    x = _embed(params["src_embed"], src_BxS, cfg)
    if k_embed is not None:
        x = inverted_dropout(x, cfg.dropout, k_embed)

    def body(x, layer):
        p, k = layer
        k = (None, None) if k is None else (k[0], k[1])
        x = _residual(x, attn.self_attention(p["attn"], layer_norm(p["ln1"], x), cfg.num_heads, mask,
                                             impl=cfg.attention), cfg, k[0])
        x = _residual(x, _mlp(p["mlp"], layer_norm(p["ln2"], x)), cfg, k[1])
        return x, None

    x, _ = jax.lax.scan(body, x, (params["encoder"], keys))
    return layer_norm(params["enc_ln"], x)


def decode(params: dict, memory_BxSxD: jax.Array, src_BxS: jax.Array, tgt_in_BxT: jax.Array,
           cfg: TransformerConfig, *, key: jax.Array | None = None) -> jax.Array:
    """Next-token logits (B, T, V) for the target prefix `tgt_in` given the encoded source."""
    src_mask = attn.padding_mask(src_BxS != PAD)
    k_embed, keys = _layer_keys(key, cfg, 3)
    x = _embed(params["tgt_embed"], tgt_in_BxT, cfg)
    if k_embed is not None:
        x = inverted_dropout(x, cfg.dropout, k_embed)

    def body(x, layer):
        p, k = layer
        return _decoder_layer(p, x, memory_BxSxD, src_mask, cfg, (None,) * 3 if k is None else k), None

    x, _ = jax.lax.scan(body, x, (params["decoder"], keys))
    x = layer_norm(params["dec_ln"], x)
    return matmul_last(x, params["tgt_embed"].T)


def _decoder_layer(p, x, memory_BxSxD, src_mask, cfg, keys):
    h = layer_norm(p["ln1"], x)
    x = _residual(x, attn.self_attention(p["self_attn"], h, cfg.num_heads, is_causal=True,
                                         impl=cfg.attention), cfg, keys[0])
    h = layer_norm(p["ln2"], x)
    x = _residual(x, attn.cross_attention(p["cross_attn"], h, memory_BxSxD, cfg.num_heads, src_mask,
                                          impl=cfg.attention), cfg, keys[1])
    return _residual(x, _mlp(p["mlp"], layer_norm(p["ln3"], x)), cfg, keys[2])


def apply(params: dict, src_BxS: jax.Array, tgt_in_BxT: jax.Array, cfg: TransformerConfig, *,
          key: jax.Array | None = None, train: bool = False) -> jax.Array:
    """Teacher-forced logits (B, T, V); dropout only with `train` and a key."""
    if train and cfg.dropout > 0.0 and key is None:
        raise ValueError("transformer: apply(train=True) with dropout needs a `key`")
    key = key if train else None
    k_enc, k_dec = jax.random.split(key) if key is not None else (None, None)
    memory = encode(params, src_BxS, cfg, key=k_enc)
    return decode(params, memory, src_BxS, tgt_in_BxT, cfg, key=k_dec)


def make(cfg: TransformerConfig) -> PureModel:
    """A PureModel whose `apply(params, {"source", "target"})` gives the logits of target[:, 1:],
    teacher-forced on target[:, :-1] (targets are BOS + tokens + EOS)."""

    def model_apply(params: dict, batch: dict, *, key: jax.Array | None = None, train: bool = False) -> jax.Array:
        return apply(params, batch["source"], batch["target"][:, :-1], cfg, key=key, train=train)

    return PureModel("transformer", dataclasses.asdict(cfg), (cfg.max_len,), functools.partial(init, cfg=cfg),
                     model_apply)


@functools.partial(jax.jit, static_argnames=("cfg", "length"))
def greedy_decode(params: dict, src_BxS: jax.Array, *, cfg: TransformerConfig, length: int,
                  bos: int) -> jax.Array:
    """`length` tokens after `bos`, each the argmax given the ones before: (B, length).

    The source is encoded once; the decoder reruns on a fixed-size buffer each step
    (causal, so later slots do not affect earlier ones) to keep shapes static.
    """
    b = src_BxS.shape[0]
    memory = encode(params, src_BxS, cfg)
    buf = jnp.zeros((b, length + 1), jnp.int32).at[:, 0].set(bos)

    def step(t, buf):
        logits = decode(params, memory, src_BxS, buf[:, :-1], cfg)
        nxt = jnp.argmax(jax.lax.dynamic_index_in_dim(logits, t, axis=1, keepdims=False), axis=-1)
        return jax.lax.dynamic_update_index_in_dim(buf, nxt.astype(jnp.int32), t + 1, axis=1)

    return jax.lax.fori_loop(0, length, step, buf)[:, 1:]


def cross_attention_weights(params: dict, src_BxS: jax.Array, tgt_in_BxT: jax.Array,
                            cfg: TransformerConfig, layer: int) -> jax.Array:
    """(B, N, T, S) weights of decoder layer `layer`'s attention over the source (no dropout)."""
    if not 0 <= layer < cfg.num_layers:
        raise ValueError(f"layer must be in [0, {cfg.num_layers}), got {layer}")
    memory = encode(params, src_BxS, cfg)
    src_mask = attn.padding_mask(src_BxS != PAD)
    x = _embed(params["tgt_embed"], tgt_in_BxT, cfg)
    for i in range(layer):  # unrolled: this is for plots, not training
        x = _decoder_layer(jax.tree.map(lambda a: a[i], params["decoder"]), x, memory, src_mask, cfg,
                           (None,) * 3)
    p = jax.tree.map(lambda a: a[layer], params["decoder"])
    x = x + attn.self_attention(p["self_attn"], layer_norm(p["ln1"], x), cfg.num_heads, is_causal=True)
    q = attn.split_heads(attn.dense(p["cross_attn"]["q"], layer_norm(p["ln2"], x)), cfg.num_heads)
    k = jnp.split(attn.dense(p["cross_attn"]["kv"], memory), 2, axis=-1)[0]
    return attn.attention_weights(q, attn.split_heads(k, cfg.num_heads), src_mask)


def label_smoothed_cross_entropy(logits_BxTxV: jax.Array, labels_BxT: jax.Array,
                                 smoothing: float) -> jax.Array:
    """Per-position cross-entropy against (1 - s) * one_hot + s / V (s = smoothing): (B, T).

    Label smoothing (Szegedy et al.), as the paper trains with s = 0.1; at s = 0 the NLL.
    """
    logp = jax.nn.log_softmax(logits_BxTxV.astype(jnp.float32), axis=-1)
    nll = -jnp.take_along_axis(logp, labels_BxT[..., None], axis=-1)[..., 0]
    return (1.0 - smoothing) * nll - smoothing * logp.mean(-1)
