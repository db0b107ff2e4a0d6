"""GPT character language models on offline Shakespeare."""

from __future__ import annotations

import ml_collections

from jaxdl.experiments import common


def _gpt_char() -> ml_collections.ConfigDict:
    """GPT char LM on offline Shakespeare (char_lm task): AdamW, warmup + cosine, clipping 1.0."""
    c = common.base("char_lm", "shakespeare")
    c.model = ml_collections.ConfigDict(
        dict(name="gpt", num_layers=4, d_model=128, num_heads=4, mlp_ratio=4, dropout=0.0,
             positions="rotary", tie_weights=True, attention="fast",
             remat="none"))  # none | full | dots_saveable (true = full): recompute blocks in the backward pass
    c.lm = ml_collections.ConfigDict(dict(seq_len=128))  # the context; divides the 256-char rows
    c.optimizer.update(name="adamw", learning_rate=2e-3, b1=0.9, b2=0.99, weight_decay=0.1, clip_norm=1.0)
    c.optimizer.schedule.update(name="cosine", warmup_steps=200, end_factor=0.1)
    c.data.eval_batch_size = 64
    c.train.eval_splits = ("validation",)
    c.train.eval_every_steps = 500  # runs are shorter than an epoch (17,970 rows)
    c.train.keep_best = True
    return c


def gpt_char_tiny() -> ml_collections.ConfigDict:
    """4 x 128 GPT, 4 heads, context 128, rotary, 8 rows (2,048 chars) per step: the CPU config."""
    c = _gpt_char()
    # On XLA:CPU a step costs the same per char from 4 rows to 32 (about 0.1 CPU-ms/char
    # for this model; context 256 costs 1.3x), so bigger batches buy no throughput and a
    # fixed char budget is best spent on steps: at 4.2M chars of a 10.2M-char cosine,
    # validation 1.608 with 8 rows per step vs 1.634 with 16. This config: 1.4528 at
    # step 5000, 1,702 s on the loaded machine; 225 ms/step at load average 2.1-2.7.
    # That step keeps about one core busy, so the `jaxdl` command runs it data-parallel
    # over 2 CPU devices (4 rows each): 9.7 vs 5.3 steps/s at load average 2.5, which buys
    # 7,000 steps within the 15 minutes (12.3 steps/s at load average 0.8).
    c.data.batch_size = 8  # rows of 256 chars: 16 windows of 128 per step
    c.optimizer.learning_rate = 3e-3
    c.train.num_steps = 7000  # 14.3M chars, 3.1 epochs
    c.train.cpu_devices = 2
    c.train.eval_every_steps = 1000
    return c


def gpt_char_small() -> ml_collections.ConfigDict:
    """nanoGPT's shakespeare-char size: 6 x 384, 6 heads, context 256, dropout 0.2 (for a GPU)."""
    c = _gpt_char()
    c.model.update(num_layers=6, d_model=384, num_heads=6, dropout=0.2)
    c.lm.seq_len = 256
    c.optimizer.update(learning_rate=1e-3, weight_decay=0.1)
    c.data.batch_size = 64  # 64 x 256 = 16k chars per step, as nanoGPT
    c.train.num_steps = 5000
    return c
