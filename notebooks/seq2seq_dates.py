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
# # Dates -> ISO with a GRU encoder-decoder: how the decoder sees the encoder
#
# Human-written dates in 8 locales ("3 de set. de 2023", "Tuesday, March 5, 1974", "5/3/74")
# to `YYYY-MM-DD`. Same data, steps and optimiser; only the decoder's context differs:
#
# - `seq2seq_dates`: Bahdanau attention over every encoder state;
# - `seq2seq_dates_matrix`: the final encoder state through its own identity-initialised matrix;
# - `seq2seq_dates_concat`: the final encoder state concatenated with the input, one random matrix.
#
# Exact match = every output character up to `<eos>` right, by greedy decoding and by beam search
# (`jaxdl.tasks.seq2seq.translate`). Command line: `jaxdl train seq2seq_dates` etc.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
# Small mode: a 16-unit GRU, 30 steps on 512 pairs, validation only, no beam in the evaluation.
SIZE = (["model.embed=8", "model.hidden=16", "model.attention=16", "data.max_train_examples=512",
         "data.batch_size=64", "train.num_steps=30", "optimizer.schedule.warmup_steps=5",
         "train.eval_splits=('validation',)", "decoding.beam_size=0", "train.checkpoint_every_steps=-1"]
        if SMALL else [])
EXPERIMENTS = ("seq2seq_dates", "seq2seq_dates_matrix", "seq2seq_dates_concat")
DECODED = EXPERIMENTS[:1] if SMALL else EXPERIMENTS  # each model's decoders compile anew: small decodes one

# %%
import tempfile

import matplotlib.pyplot as plt

from jaxdl import config as config_lib, data, experiments
from jaxdl.tasks import seq2seq
from jaxdl.train import loop, workdir as wd

root = tempfile.mkdtemp(prefix="jaxdl-nb-seq2seq-")
runs = {}
for name in EXPERIMENTS:
    config = config_lib.apply_overrides(experiments.get_config(name), SIZE)
    runs[name] = (config, loop.train(config, os.path.join(root, name), live=False))

# %% [markdown]
# ## Exact match per context (greedy; beam 3 where evaluated)

# %%
for name, (config, result) in runs.items():
    print(name, {split: {k: round(v, 4) for k, v in m.items() if k in ("exact_match", "beam_exact_match")}
                 for split, m in result.final.items() if split != "train"})
fig, (ax_loss, ax_exact) = plt.subplots(1, 2, figsize=(11, 3.5))
for name in runs:
    records = wd.read_metrics(os.path.join(root, name))
    train = [(r["step"], r["loss"]) for r in records if r["split"] == "train"]
    val = [(r["step"], r["exact_match"]) for r in records if r["split"] == "validation"]
    ax_loss.plot(*zip(*train), marker="o", label=name)
    ax_exact.plot(*zip(*val), marker="o", label=name)
ax_loss.set(xlabel="step", ylabel="training loss (nats/token)")
ax_exact.set(xlabel="step", ylabel="validation exact match")
ax_exact.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Greedy and beam decoding of a few test dates

# %%
spec = data.get_spec("dates")
test = data.load_arrays("dates", "test", max_examples=8)
sources = [spec.meta["source"].decode(row) for row in test["source"]]
truths = [spec.meta["target"].decode(row) for row in test["target"]]
for name in DECODED:
    config, result = runs[name]
    greedy = seq2seq.translate(config, result.state.params, sources)
    beam = seq2seq.translate(config, result.state.params, sources, beam_size=3)
    print(f"--- {name}")
    for source, truth, g, b in zip(sources, truths, greedy, beam):
        print(f"{source:32s} -> greedy {g:12s} beam {b:12s} {'ok' if b == truth else 'want ' + truth}")
