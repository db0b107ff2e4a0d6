"""GRU encoder-decoder from matrix algebra, with four ways to hand the decoder the source.

`context` picks how the decoder sees the encoder:
- "concat": the encoder's final state c is concatenated with the decoder's input
  embedding under one random matrix, [e; c] W_x (the exploration's first try);
- "matrix": c enters through its own matrix, e W_x + c W_c, with W_c initialised
  to the identity on the candidate block (`context_init="identity"`: the context
  goes straight into the candidate state, the gates start context-free) or at
  random (`"random"`). The exploration found this trains much better than "concat";
- "bahdanau": additive attention over all encoder states from the previous decoder
  state, the attended context fed with the input and to the output layer;
- "luong": multiplicative ("general") attention from the new decoder state,
  combined as tanh([h; c] W_comb) before the output layer.
With "concat"/"matrix" the decoder starts from zeros, so the context reaches it
only through the path being compared; with attention it starts from tanh(c W_init).

Sequences: sources (B, S) are right-padded with PAD (0); the encoder carries its
state over padding and attention never looks at it. Targets are <bos> y <eos>
PAD...; training feeds target[:, :-1] (teacher forcing) and predicts target[:, 1:].
Greedy and beam decoding are one `lax.scan` over output steps each, jit-friendly;
after <eos> a row emits PAD.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from jax.nn import initializers as jinit

from jaxdl.data.text import BOS, EOS, PAD
from jaxdl.models import gru
from jaxdl.models.matmul import matmul_last
from jaxdl.models.pure import PureModel

CONTEXTS = ("concat", "matrix", "bahdanau", "luong")
CONTEXT_INITS = ("identity", "random")
ENCODERS = ("gru",)
Params = dict[str, Any]
_NEG = -1e30  # a finite -inf: masked scores stay free of NaN


@dataclasses.dataclass(frozen=True)
class Seq2SeqConfig:
    source_vocab: int
    target_vocab: int
    embed: int = 32
    hidden: int = 128
    encoder: str = "gru"
    bidirectional: bool = False
    context: str = "bahdanau"
    context_init: str = "identity"  # "matrix" only
    attention: int = 128  # "bahdanau" score layer width

    def __post_init__(self):
        for name, value, valid in (("context", self.context, CONTEXTS), ("encoder", self.encoder, ENCODERS),
                                   ("context_init", self.context_init, CONTEXT_INITS)):
            if value not in valid:
                raise ValueError(f"unknown seq2seq {name} {value!r}; valid: {', '.join(valid)}")
        for name in ("source_vocab", "target_vocab", "embed", "hidden", "attention"):
            if getattr(self, name) < 1:
                raise ValueError(f"seq2seq {name} must be >= 1, got {getattr(self, name)}")

    @property
    def context_size(self) -> int:
        return self.hidden * (2 if self.bidirectional else 1)

    @property
    def attends(self) -> bool:
        return self.context in ("bahdanau", "luong")


def _dense(key, n_in, n_out):
    return {"W": jinit.lecun_normal()(key, (n_in, n_out)), "b": jnp.zeros((n_out,))}


def _linear(p, x):
    return gru.add_bias(x @ p["W"], p["b"])


def init(key: jax.Array, cfg: Seq2SeqConfig) -> Params:
    keys = iter(jax.random.split(key, 12))
    E, H, C = cfg.embed, cfg.hidden, cfg.context_size
    enc = {"embed": jax.random.normal(next(keys), (cfg.source_vocab, E)), "fwd": gru.init(next(keys), E, H)}
    if cfg.bidirectional:
        enc["bwd"] = gru.init(next(keys), E, H)
    dec_in = E + C if cfg.context in ("concat", "bahdanau") else E
    dec = {"embed": jax.random.normal(next(keys), (cfg.target_vocab, E)), "gru": gru.init(next(keys), dec_in, H)}
    if cfg.context == "matrix":
        if cfg.context_init == "identity":
            dec["W_c"] = jnp.concatenate([jnp.zeros((C, 2 * H)), jnp.eye(C, H)], axis=1)
        else:
            dec["W_c"] = jinit.lecun_normal()(next(keys), (C, 3 * H))
    if cfg.attends:
        dec["init"] = _dense(next(keys), C, H)
    if cfg.context == "bahdanau":
        dec["W_q"] = jinit.lecun_normal()(next(keys), (H, cfg.attention))
        dec["W_k"] = jinit.lecun_normal()(next(keys), (C, cfg.attention))
        dec["v"] = jinit.lecun_normal()(next(keys), (cfg.attention, 1))[:, 0]
    if cfg.context == "luong":
        dec["W_a"] = jinit.lecun_normal()(next(keys), (C, H))
        dec["combine"] = _dense(next(keys), H + C, H)
    out_in = H + C if cfg.context == "bahdanau" else H
    dec["out"] = _dense(next(keys), out_in, cfg.target_vocab)
    return {"encoder": enc, "decoder": dec}


def encode(params: Params, cfg: Seq2SeqConfig, source_BxS: jax.Array) -> dict[str, jax.Array]:
    """What every decoder step needs: states (B, S, C), mask (B, S) and the per-context precomputations."""
    enc, dec = params["encoder"], params["decoder"]
    mask_BxS = (source_BxS != PAD).astype(jnp.float32)
    x_BxSxE = enc["embed"][source_BxS]
    B = source_BxS.shape[0]
    h0_BxH = jnp.zeros((B, cfg.hidden))
    last_BxH, states_BxSxC = gru.scan(enc["fwd"], x_BxSxE, h0_BxH, mask_BxS)
    if cfg.bidirectional:
        first_BxH, back_BxSxH = gru.scan(enc["bwd"], x_BxSxE, h0_BxH, mask_BxS, reverse=True)
        last_BxH = jnp.concatenate([last_BxH, first_BxH], axis=-1)
        states_BxSxC = jnp.concatenate([states_BxSxC, back_BxSxH], axis=-1)
    out = {"states": states_BxSxC, "mask": mask_BxS}
    if cfg.context == "concat":  # [e; c] W_x = e W_x[:E] + c W_x[E:]: c's part is the same every step
        out["ctx_w"] = last_BxH @ dec["gru"]["W_x"][cfg.embed:]
    elif cfg.context == "matrix":
        out["ctx_w"] = last_BxH @ dec["W_c"]
    elif cfg.context == "bahdanau":
        out["keys"] = matmul_last(states_BxSxC, dec["W_k"])
    else:  # luong: h . (W_a^T s_j) for every source state, precomputed
        out["keys"] = matmul_last(states_BxSxC, dec["W_a"])
    out["h0"] = jnp.tanh(_linear(dec["init"], last_BxH)) if cfg.attends else jnp.zeros((B, cfg.hidden))
    return out


def _attend(scores_BxS, mask_BxS, states_BxSxC):
    weights_BxS = jax.nn.softmax(jnp.where(mask_BxS > 0, scores_BxS, _NEG), axis=-1)
    return jnp.einsum("bs,bsc->bc", weights_BxS, states_BxSxC)


def step(params: Params, cfg: Seq2SeqConfig, enc: dict, h_BxH: jax.Array, y_B: jax.Array):
    """One decoder step from the previous token: (new state, logits (B, V))."""
    dec = params["decoder"]
    E = cfg.embed
    e_BxE = dec["embed"][y_B]
    W_x, b = dec["gru"]["W_x"], dec["gru"]["b"]
    xw_Bx3H = gru.add_bias(e_BxE @ W_x[:E], b)
    if cfg.context in ("concat", "matrix"):
        h_BxH = gru.cell(dec["gru"], h_BxH, xw_Bx3H + enc["ctx_w"])
        return h_BxH, _linear(dec["out"], h_BxH)
    if cfg.context == "bahdanau":
        q_BxA = h_BxH @ dec["W_q"]
        scores_BxS = jnp.tanh(enc["keys"] + q_BxA[:, None, :]) @ dec["v"]
        c_BxC = _attend(scores_BxS, enc["mask"], enc["states"])
        h_BxH = gru.cell(dec["gru"], h_BxH, xw_Bx3H + c_BxC @ W_x[E:])
        return h_BxH, _linear(dec["out"], jnp.concatenate([h_BxH, c_BxC], axis=-1))
    h_BxH = gru.cell(dec["gru"], h_BxH, xw_Bx3H)  # luong
    c_BxC = _attend(jnp.einsum("bsh,bh->bs", enc["keys"], h_BxH), enc["mask"], enc["states"])
    attentional_BxH = jnp.tanh(_linear(dec["combine"], jnp.concatenate([h_BxH, c_BxC], axis=-1)))
    return h_BxH, _linear(dec["out"], attentional_BxH)


def logits(params: Params, cfg: Seq2SeqConfig, source_BxS: jax.Array, target_in_BxT: jax.Array) -> jax.Array:
    """Teacher forcing: logits (B, T, V) for each next token given the true previous ones."""
    enc = encode(params, cfg, source_BxS)

    def body(h_BxH, y_B):
        h_BxH, logits_BxV = step(params, cfg, enc, h_BxH, y_B)
        return h_BxH, logits_BxV

    _, logits_TxBxV = jax.lax.scan(body, enc["h0"], jnp.swapaxes(target_in_BxT, 0, 1))
    return jnp.swapaxes(logits_TxBxV, 0, 1)


def greedy(params: Params, cfg: Seq2SeqConfig, source_BxS: jax.Array, steps: int) -> jax.Array:
    """The most likely next token at each step, from <bos>: tokens (B, steps), PAD after <eos>."""
    enc = encode(params, cfg, source_BxS)
    B = source_BxS.shape[0]

    def body(carry, _):
        h_BxH, y_B, done_B = carry
        h_BxH, logits_BxV = step(params, cfg, enc, h_BxH, y_B)
        y_B = jnp.where(done_B, PAD, jnp.argmax(logits_BxV, axis=-1))
        return (h_BxH, y_B, done_B | (y_B == EOS)), y_B

    start = (enc["h0"], jnp.full((B,), BOS, jnp.int32), jnp.zeros((B,), bool))
    _, tokens_TxB = jax.lax.scan(body, start, None, length=steps)
    return tokens_TxB.T


def beam_search(
    params: Params, cfg: Seq2SeqConfig, source_BxS: jax.Array, steps: int, beam: int
) -> tuple[jax.Array, jax.Array]:
    """The `beam` most likely continuations kept at each step (sum of log-probabilities,
    no length penalty): (best tokens (B, steps), their log-probability (B,))."""
    B, K, V = source_BxS.shape[0], beam, cfg.target_vocab
    if not 1 <= K <= V:
        raise ValueError(f"beam must be in 1..{V} (the target vocabulary), got {beam}")
    enc = jax.tree.map(lambda a: jnp.repeat(a, K, axis=0), encode(params, cfg, source_BxS))  # rows b*K + k
    # Only beam 0 is live at the start, so the first step does not pick K copies of one token.
    scores_BxK = jnp.where(jnp.arange(K)[None, :] == 0, 0.0, _NEG) * jnp.ones((B, 1))
    pad_only_V = jnp.where(jnp.arange(V) == PAD, 0.0, _NEG)  # a finished beam extends with PAD at no cost
    rows_Bx1 = jnp.arange(B)[:, None]

    def body(carry, t):
        h_BKxH, y_BK, done_BxK, scores_BxK, tokens_BxKxT = carry
        h_BKxH, logits_BKxV = step(params, cfg, enc, h_BKxH, y_BK)
        logp_BxKxV = jax.nn.log_softmax(logits_BKxV).reshape(B, K, V)
        logp_BxKxV = jnp.where(done_BxK[..., None], pad_only_V[None, None, :], logp_BxKxV)
        scores_BxK, flat_BxK = jax.lax.top_k((scores_BxK[..., None] + logp_BxKxV).reshape(B, K * V), K)
        parent_BxK, y_BxK = flat_BxK // V, flat_BxK % V
        h_BKxH = h_BKxH.reshape(B, K, -1)[rows_Bx1, parent_BxK].reshape(B * K, -1)
        tokens_BxKxT = tokens_BxKxT[rows_Bx1, parent_BxK].at[:, :, t].set(y_BxK)
        done_BxK = done_BxK[rows_Bx1, parent_BxK] | (y_BxK == EOS)
        return (h_BKxH, y_BxK.reshape(-1), done_BxK, scores_BxK, tokens_BxKxT), None

    start = (enc["h0"], jnp.full((B * K,), BOS, jnp.int32), jnp.zeros((B, K), bool), scores_BxK,
             jnp.zeros((B, K, steps), jnp.int32))
    (_, _, _, scores_BxK, tokens_BxKxT), _ = jax.lax.scan(body, start, jnp.arange(steps))
    return tokens_BxKxT[:, 0], scores_BxK[:, 0]  # top_k sorts: beam 0 is the best


def make(source_len: int, **hparams: Any) -> PureModel:
    """A PureModel whose `apply(params, {"source", "target_in"})` gives teacher-forced logits."""
    cfg = Seq2SeqConfig(**hparams)

    def apply(params: Params, inputs: dict[str, jax.Array], *, key=None, train: bool = False) -> jax.Array:
        del key, train  # deterministic: no dropout
        return logits(params, cfg, inputs["source"], inputs["target_in"])

    return PureModel("seq2seq", dataclasses.asdict(cfg), (source_len,), lambda key: init(key, cfg), apply)
