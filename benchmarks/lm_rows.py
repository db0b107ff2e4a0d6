"""The language-model benchmark rows, char-LSTM and GPT: random token rows as the `char_lm`
task reads them, the same windows for torch, and jaxdl's scanned train step timed against
PyTorch's (`workloads` has the shared machinery and the other rows)."""

from __future__ import annotations

import jax
import numpy as np

from benchmarks import torch_worker
from benchmarks.workloads import Result, config_for, jaxdl_steps, random_indices, time_sides
from jaxdl import data
from jaxdl.models import attention as attention_lib
from jaxdl.tasks import char_lm

# nanoGPT's shakespeare-char text; its vocabulary is 65 characters + jaxdl's 4 special tokens.
LM_DATA = "tiny_shakespeare"


def lm_inputs(config, batch: int, seq_len: int, num_steps: int, seed: int = 0):
    """Random token rows as the char_lm task reads them, and the same windows for torch.

    The task cuts each row of R + 1 ids into R / seq_len windows of seq_len + 1 (inputs and
    their next-token targets), so `batch` windows a step are batch * seq_len / R rows.
    Returns ({"ids": (S * rows, R + 1)}, idx (S, rows), torch windows (S, batch, seq_len + 1),
    vocabulary size)."""
    row = data.get_spec(config.data.name).meta["row"]
    if (batch * seq_len) % row or row % seq_len:
        raise ValueError(f"batch {batch} x seq_len {seq_len} must be whole rows of {row} tokens "
                         f"(seq_len dividing {row})")
    rows, size = batch * seq_len // row, len(char_lm.vocab(config))
    ids = np.random.default_rng(seed).integers(0, size, (num_steps * rows, row + 1)).astype(np.int32)
    idx = random_indices(num_steps, rows, seed + 1)
    windows = np.stack([ids[:, j * seq_len: (j + 1) * seq_len + 1] for j in range(row // seq_len)], axis=1)
    return {"ids": ids}, idx, windows[idx].reshape(num_steps, batch, seq_len + 1), size


def _experiment_inputs(experiment: str, overrides: list[str], batch: int, seq_len: int, num_steps: int):
    """`experiment`'s config with `overrides` and `lm_inputs` for it, its batch size set to the
    token rows a step reads."""
    config = config_for(experiment, overrides)
    ids, idx, windows, v = lm_inputs(config, batch, seq_len, num_steps)
    config.data.batch_size = idx.shape[1]
    return config, ids, idx, windows, v


def lstm_flops_per_token(vocab: int, hidden: int, layers: int) -> float:
    fwd = sum(2 * 4 * hidden * ((vocab if i == 0 else hidden) + hidden) for i in range(layers))
    return 3 * (fwd + 2 * hidden * vocab)


def lstm_inputs(sz):
    """The char-LSTM row's config (plain Adam as torch: the experiment's clipping and cosine
    schedule off), token rows, batch indices, torch's windows and the vocabulary size."""
    overrides = [f"data.name={LM_DATA}", f"model.hidden={sz.lstm_hidden}", f"model.layers={sz.lstm_layers}",
                 f"lm.seq_len={sz.lstm_T}", "optimizer.learning_rate=0.001", "optimizer.clip_norm=0.0",
                 "optimizer.schedule.name=constant"]
    return _experiment_inputs("char_lstm", overrides, sz.lm_batch, sz.lstm_T, sz.lm_steps)


def lstm_row(sz, torch_ok: bool) -> Result:
    config, ids, idx, _, v = lstm_inputs(sz)
    h, layers, batch, t = sz.lstm_hidden, sz.lstm_layers, sz.lm_batch, sz.lstm_T
    res = Result("char_lstm", f"char-LSTM {layers}x{h} b{batch} t{t}, one-hot vocab {v}, Adam", "tokens/s",
                 flops=lstm_flops_per_token(v, h, layers))
    sides = {"jaxdl": jaxdl_steps(config, ids, idx)}
    res.note = (f"jaxdl: experiment char_lstm (one-hot ids as a row gather, scan unroll {config.model.unroll}, "
                "hand-written recurrence backward); torch nn.LSTM")
    with torch_worker.sides("char_lstm", sz, torch_ok) as torch_procs:
        time_sides(res, sides | torch_procs, sz.lm_repeats, 1, batch * t)
    return res


def gpt_flops_per_token(vocab: int, context: int, width: int, layers: int) -> float:
    """PaLM's model FLOPs: 6 N + 12 L d T per token, N = 12 L d^2 + V d (tied head counted once)."""
    n = 12 * layers * width**2 + vocab * width
    return 6 * n + 12 * layers * width * context


def gpt_inputs(sz):
    """The GPT row's config (learned positions as nanoGPT and the torch model; bf16 matmuls on
    GPU as torch's autocast), token rows, batch indices, torch's windows and the vocabulary."""
    gpu = jax.default_backend() == "gpu"
    overrides = [f"data.name={LM_DATA}", f"model.num_layers={sz.gpt_layers}", f"model.d_model={sz.gpt_width}",
                 f"model.num_heads={sz.gpt_heads}", f"lm.seq_len={sz.gpt_context}", "model.positions=learned",
                 f"train.precision={'bfloat16' if gpu else 'float32'}"]
    return _experiment_inputs("gpt_char_small", overrides, sz.gpt_batch, sz.gpt_context, sz.lm_steps)


def gpt_row(sz, torch_ok: bool) -> Result:
    config, ids, idx, _, v = gpt_inputs(sz)
    ctx, d, layers, heads, batch = sz.gpt_context, sz.gpt_width, sz.gpt_layers, sz.gpt_heads, sz.gpt_batch
    gpu = jax.default_backend() == "gpu"
    res = Result("gpt", f"GPT char {layers}x{d}, {heads} heads, ctx {ctx}, b{batch}, AdamW, clip 1", "tokens/s",
                 flops=gpt_flops_per_token(v, ctx, d, layers))
    sides = {"jaxdl": jaxdl_steps(config, ids, idx)}
    m = config.model
    attention = "jax.nn.dot_product_attention" if attention_lib.fast_is_library() else "einsums"
    notes = [f"jaxdl: experiment gpt_char_small, attention={m.attention} ({attention} on this backend), "
             f"dropout {m.dropout}, {config.train.precision}, scanned blocks"]
    with torch_worker.sides("gpt", sz, torch_ok) as torch_procs:
        time_sides(res, sides | torch_procs, sz.lm_repeats, 1, batch * ctx)
        if torch_procs:
            notes.append("torch eager" + (", bf16 autocast" if gpu else ", float32"))
            notes += filter(None, [torch_procs["torch"].note()])
    if jax.default_backend() == "cpu" and not sz.small:
        notes.append("batch cut to fit the CPU time budget (64 on GPU)")
    res.note = "; ".join(notes)
    return res
