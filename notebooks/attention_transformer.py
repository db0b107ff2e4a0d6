# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Attention from scratch, a GPT char LM with a KV cache, and the encoder-decoder transformer
#
# 1. `jaxdl.models.attention`: softmax(q kᵀ / √H + mask) v written with einsums (`impl="scratch"`)
#    against `jax.nn.dot_product_attention` (`impl="fast"`) on the same inputs, with a causal mask;
# 2. `gpt_char_tiny`: a pre-LN GPT character LM on Shakespeare, sampled through its KV cache
#    (a ring buffer inside one jitted scan), checked against full recomputation;
# 3. `transformer_copy` / `transformer_dates`: the encoder-decoder of "Attention is all you need",
#    and a decoder head's attention over a date (`jaxdl plot --figure attention`).

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
GPT_SIZE = (["model.num_layers=2", "model.d_model=32", "model.num_heads=2", "lm.seq_len=64",
             "data.batch_size=2", "data.max_train_examples=256", "train.num_steps=20",
             "train.eval_every_steps=0", "optimizer.schedule.warmup_steps=5",
             "train.checkpoint_every_steps=-1", "train.progress_updates_per_epoch=1",
             "train.eval_splits=()", "train.keep_best=false"] if SMALL else [])  # small: no validation pass
SEQ2SEQ_SIZE = (["model.num_layers=1", "model.d_model=32", "model.num_heads=2", "model.d_ff=64",
                 "data.max_train_examples=512", "data.batch_size=64", "train.num_steps=30",
                 "optimizer.schedule.warmup_steps=10", "train.eval_splits=('validation',)",
                 "train.checkpoint_every_steps=-1"] if SMALL else [])
SEQ2SEQ = ("transformer_dates",) if SMALL else ("transformer_copy", "transformer_dates")
LENGTH = 60 if SMALL else 300
DATES = ("3 de set. de 2023",) if SMALL else ("3 de set. de 2023", "Tuesday, March 5, 1974", "12/31/99")

# %%
import tempfile

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

from jaxdl import config as config_lib, experiments, figures
from jaxdl.data import text
from jaxdl.models import attention, gpt
from jaxdl.tasks import char_lm
from jaxdl.train import loop, summary

root = tempfile.mkdtemp(prefix="jaxdl-nb-attention-")

# %% [markdown]
# ## 1. Scaled dot-product attention: from scratch vs `jax.nn.dot_product_attention`

# %%
kq, kk, kv = jax.random.split(jax.random.key(0), 3)
B, T, N, H = 2, 6, 2, 8  # batch, positions, heads, head size
q, k, v = (jax.random.normal(key, (B, T, N, H)) for key in (kq, kk, kv))
for causal in (False, True):
    scratch = attention.attend(q, k, v, is_causal=causal, impl="scratch")
    fast = attention.attend(q, k, v, is_causal=causal, impl="fast")  # jax.nn.dot_product_attention
    print(f"causal={causal}: max |scratch - jax.nn.dot_product_attention| = "
          f"{float(jnp.max(jnp.abs(scratch - fast))):.2e}")
# Padding: the last two keys of example 1 are padding, so no query looks at them.
valid = jnp.array([[1] * T, [1] * (T - 2) + [0] * 2])
mask = attention.combine_masks(attention.causal_mask(T), attention.padding_mask(valid))
weights = attention.attention_weights(q, k, mask)
print("weights on the padded keys of example 1:", float(weights[1, :, :, -2:].sum()))
fig, axes = plt.subplots(1, 3, figsize=(11, 3))
for ax, image, title in zip(axes, (attention.causal_mask(T)[0, 0], attention.attention_weights(q, k)[0, 0],
                                   weights[1, 0]),
                            ("causal mask", "weights, no mask", "causal + padding, example 1")):
    ax.imshow(np.asarray(image, float), cmap="viridis", vmin=0, vmax=1)
    ax.set(title=title, xlabel="key", ylabel="query")
plt.show()

# %% [markdown]
# ## 2. A GPT character language model (`gpt_char_tiny`)

# %%
gpt_config = config_lib.apply_overrides(experiments.get_config("gpt_char_tiny"), GPT_SIZE)
gpt_dir = os.path.join(root, "gpt_char_tiny")
gpt_run = loop.train(gpt_config, gpt_dir, live=False)
display(Image(figures.learning_curves(gpt_dir)))
params = gpt_run.state.params
cfg = gpt.GPTConfig(**char_lm.build_lm(gpt_config).model.hparams)
print(cfg, f"{sum(summary.params_by_module(params).values()):,} parameters")

# %% [markdown]
# ### KV-cache decoding equals recomputing the whole prefix
# Feeding one character at a time through the cache gives the logits that the full forward
# pass gives at every position.

# %%
chars = char_lm.vocab(gpt_config)
prompt = "ROMEO:\nWhat light"
ids_1xP = jnp.asarray(chars.encode(text.char_tokenize(prompt)))[None]
full = gpt.apply(params, ids_1xP, cfg)
cache = gpt.init_cache(cfg, 1, ids_1xP.shape[1])
extend = jax.jit(gpt.extend, static_argnames="cfg")  # one compile for every position
stepped = []
for t in range(ids_1xP.shape[1]):
    logits, cache = extend(params, cache, ids_1xP[:, t:t + 1], t, cfg)
    stepped.append(logits[:, 0])
print("max |cached - full| logit:", float(jnp.max(jnp.abs(jnp.stack(stepped, 1) - full))))
for temperature in (0.0, 0.8):
    sample = char_lm.generate_text(gpt_config, params, prompt, length=LENGTH, temperature=temperature, seed=0)
    print(f"--- temperature {temperature}\n{prompt}{sample}\n")

# %% [markdown]
# ### Causal self-attention of the last block over the prompt

# %%
weights = jax.jit(gpt.attention_weights, static_argnames=("cfg", "layer"))(
    params, ids_1xP, cfg, layer=cfg.num_layers - 1)[0, 0]
display(Image(figures.attention_map(weights, list(prompt), list(prompt), "GPT: last block, head 0",
                                    os.path.join(root, "gpt_attention.png"))))

# %% [markdown]
# ## 3. The encoder-decoder transformer on copy and dates
# Label smoothing 0.1, the Noam schedule; exact match by greedy decoding.

# %%
for name in SEQ2SEQ:
    config = config_lib.apply_overrides(experiments.get_config(name), SEQ2SEQ_SIZE)
    result = loop.train(config, os.path.join(root, name), live=False)
    print(name, {split: round(m["exact_match"], 4) for split, m in result.final.items() if split != "train"})
    display(Image(figures.learning_curves(os.path.join(root, name))))

# %% [markdown]
# ### A decoder head's attention over a date
# Rows: the model's own greedy output; columns: the source characters.

# %%
for date in DATES:
    display(Image(figures.attention.attention(os.path.join(root, "transformer_dates"), date, head=0,
                                    path=os.path.join(root, f"attention_{len(date)}.png"))))
