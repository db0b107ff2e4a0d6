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
# # Character RNN vs LSTM on Shakespeare, and sampling from them
#
# jaxdl's `char_rnn` (vanilla tanh RNN, orthogonal recurrent init), its ReLU variants
# `char_rnn_relu_identity` (Le et al.'s IRNN) and `char_rnn_relu_normal`, and `char_lstm`
# (LSTM-512), trained on the offline Shakespeare plays (validation = held-out plays). Loss is
# in nats per character; bits per character = nats / ln 2. Then text is sampled from a prompt
# with temperature and top-k (`jaxdl.tasks.char_lm.generate_text`, one jitted scan in
# `jaxdl.models.sampling`). Command line: `jaxdl train char_lstm`, `jaxdl generate --workdir RUN`.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
# Small mode: a 32-unit net, 16 sequences of 64 per step, 30 steps as one jitted chunk (it learns little).
SIZE = (["model.hidden=32", "lm.seq_len=64", "data.batch_size=4", "train.num_steps=30",
         "train.eval_every_steps=0", "data.max_train_examples=512", "train.checkpoint_every_steps=-1",
         "train.progress_updates_per_epoch=1"]
        if SMALL else [])
LENGTH = 80 if SMALL else 400
# Each model costs a few seconds of compiling: small mode leaves the ReLU + N(0, 0.01^2) RNN out.
RNNS = (["char_rnn", "char_rnn_relu_identity"] if SMALL
        else ["char_rnn", "char_rnn_relu_identity", "char_rnn_relu_normal"])

# %%
import math
import tempfile

import matplotlib.pyplot as plt
from IPython.display import Image, display

from jaxdl import config as config_lib, experiments, figures
from jaxdl.tasks import char_lm
from jaxdl.train import loop, workdir as wd
from jaxdl.runs import saved
root = tempfile.mkdtemp(prefix="jaxdl-nb-char-")


def train(name, *overrides):
    config = config_lib.apply_overrides(experiments.get_config(name), [*overrides, *SIZE])
    workdir = os.path.join(root, name)
    return loop.train(config, workdir, live=False), workdir


# %% [markdown]
# ## Four recurrent language models
# The same task and data; only the cell, the activation and the recurrent initialisation differ.

# %%
runs = {}
for name in RNNS:
    runs[name] = train(name)
runs["char_lstm"] = train("char_lstm")
for name, (result, _) in runs.items():
    nats = result.final["validation"]["loss"]
    print(f"{name:24s} validation {nats:.4f} nats/char = {nats / math.log(2):.3f} bits/char "
          f"({int(result.state.step)} steps, {result.seconds:.0f} s)")

# %% [markdown]
# ## Learning curves: training (running mean) and validation loss, nats/char

# %%
fig, (ax_train, ax_val) = plt.subplots(1, 2, figsize=(11, 3.5))
for name, (_, workdir) in runs.items():
    records = wd.read_metrics(workdir)
    for ax, split in ((ax_train, "train"), (ax_val, "validation")):
        points = [(r["step"], r["loss"]) for r in records if r["split"] == split]
        ax.plot(*zip(*points), marker="o", markersize=3, label=name)
for ax, split in ((ax_train, "train"), (ax_val, "validation")):
    ax.set(xlabel="step", ylabel="nats/char", title=split)
    second = ax.secondary_yaxis("right", functions=(lambda n: n / math.log(2), lambda b: b * math.log(2)))
    second.set_ylabel("bits/char")
ax_val.legend(fontsize=8)
plt.show()
display(Image(figures.learning_curves(runs["char_lstm"][1])))

# %% [markdown]
# ## Sampling from the LSTM: temperature and top-k
# Its best-validation state (`train.keep_best`). Temperature 0 is greedy (argmax); a lower
# temperature sharpens the softmax, top-k samples only among the k likeliest characters.
# The same seed gives the same text.

# %%
lstm_dir = runs["char_lstm"][1]
config, _, state = saved.restore(lstm_dir, best=True)
prompt = "ROMEO:\n"
for temperature, top_k in ((0.0, 0), (0.5, 0), (0.8, 0), (1.0, 0), (1.0, 5)):
    sample = char_lm.generate_text(config, state.params, prompt, length=LENGTH, temperature=temperature,
                                   top_k=top_k, seed=0)
    print(f"--- temperature {temperature}, top-k {top_k or 'all'}\n{prompt}{sample}\n")

# %% [markdown]
# ## The vanilla tanh RNN's sample at temperature 0.8, for contrast

# %%
config, _, state = saved.restore(runs["char_rnn"][1], best=True)
print(prompt + char_lm.generate_text(config, state.params, prompt, length=LENGTH, temperature=0.8, seed=0))
