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
# # Dense random embeddings vs learned ones, for sentiment
#
# `sentiment_embedding_bag` averages a text's word vectors and classifies the mean. With
# `model.trainable=false` the vectors are fixed N(0, 1/d) draws (seed `model.frozen_seed`) and
# only the head learns: the mean is then a random projection of the bag of words, which keeps
# the bag's geometry better the wider it is. How close does that come to learning the vectors?
# Rotten Tomatoes snippets; test accuracy of each run's best-validation state.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
LIMIT = ["data.max_train_examples=1000", "train.epochs=2", "model.vocab_size=2000",
         "train.progress_updates_per_epoch=1"] if SMALL else []
# label -> overrides of sentiment_embedding_bag
VARIANTS = ({"learned, d=16": ["model.embed_dim=16"],
             "frozen random, d=16": ["model.embed_dim=16", "model.trainable=false"]} if SMALL else
            {"learned, d=64": [],
             "frozen random, d=64": ["model.trainable=false"],
             "frozen random, d=512": ["model.trainable=false", "model.embed_dim=512"],
             "frozen random, d=512, hidden 128": ["model.trainable=false", "model.embed_dim=512",
                                                  "model.hidden=(128,)"],
             "learned, d=512": ["model.embed_dim=512"]})

# %%
import tempfile

import jax
import matplotlib.pyplot as plt

from jaxdl import config as config_lib, experiments
from jaxdl.train import loop, workdir as wd

root = tempfile.mkdtemp(prefix="jaxdl-nb-random-embeddings-")
results = {}
for i, (label, overrides) in enumerate(VARIANTS.items()):
    config = config_lib.apply_overrides(experiments.get_config("sentiment_embedding_bag"), [*LIMIT, *overrides])
    workdir = os.path.join(root, f"variant{i}")
    result = loop.train(config, workdir, live=False)
    trained = sum(int(a.size) for a in jax.tree.leaves(result.state.params))
    results[label] = (workdir, result, trained)
    print(f"{label:34s} {trained:>9,} trained parameters; best validation epoch {result.best['epoch']}: "
          f"validation {result.best['evals']['validation']['accuracy']:.4f}, "
          f"test {result.best['evals']['test']['accuracy']:.4f}")

# %% [markdown]
# ## Validation accuracy per epoch, and test accuracy at the best validation epoch

# %%
fig, (ax_curve, ax_bar) = plt.subplots(1, 2, figsize=(12, 4))
for label, (workdir, result, _) in results.items():
    records = [r for r in wd.read_metrics(workdir) if r["split"] == "validation"]
    ax_curve.plot([r["epoch"] for r in records], [r["accuracy"] for r in records], marker="o", label=label)
ax_curve.set(xlabel="epoch", ylabel="validation accuracy")
ax_curve.legend(fontsize=8)
labels = list(results)
ax_bar.barh(labels, [results[k][1].best["evals"]["test"]["accuracy"] for k in labels])
ax_bar.set(xlabel="test accuracy (best validation state)", xlim=(0.5, 0.85))
plt.show()
