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
# # Embeddings: a one-hot times a matrix, entity embeddings, and collaborative filtering
#
# 1. The homebrew embedding `one_hot(ids) @ table` equals the lookup `table[ids]`, values and
#    gradients (`jaxdl.models.embedding`); the lookup skips the V-wide one-hot.
# 2. `diamonds_embeddings`: learned embeddings of cut / color / clarity beside the numeric columns,
#    an MLP to log price.
# 3. MovieLens ml-latest-small: `movielens_mf` (dot product + user/item biases, squashed into
#    (0, 5.5) by a scaled sigmoid) and `movielens_deep` (the "split" model: embeddings concatenated
#    into an MLP); RMSE of the best-validation state.
# 4. Hand-written optimisers on the same MF model: gradient descent vs heavy-ball momentum vs
#    AdaGrad (`optimizer.name=sgd_scratch|momentum_scratch|adagrad_scratch`), side by side
#    (`jaxdl compare mf_optimizers`).

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
# Small mode: 2,000 training rows / ratings, 2 epochs, narrow models.
LIMIT = ["data.max_train_examples=2000", "train.epochs=2", "train.eval_every_epochs=1"] if SMALL else []
DIAMONDS = ["model.hidden=(32,)"] if SMALL else []
MF = ["model.factors=8"] if SMALL else []
DEEP = ["model.user_factors=8", "model.item_factors=8", "model.hidden=(16,)"] if SMALL else []
OPTIMIZER_EPOCHS = ["train.epochs=2"] if SMALL else []  # else the comparison's 10
# Small mode: the three hand-written optimisers on minibatches; else also Adam, and full batch (100 epochs each).
OPTIMIZERS = (("gd_minibatch", "momentum_minibatch", "adagrad_minibatch") if SMALL else
              ("gd_minibatch", "momentum_minibatch", "adagrad_minibatch", "adam_minibatch",
               "gd_full_batch", "momentum_full_batch", "adagrad_full_batch"))

# %%
import tempfile

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

from jaxdl import config as config_lib, experiments, figures

from jaxdl.figures import embeddings as embedding_figures
from jaxdl.studies import variants
from jaxdl.data import diamonds
from jaxdl.experiments.comparisons import COMPARISONS
from jaxdl.models import embedding
from jaxdl.train import loop, workdir as wd

root = tempfile.mkdtemp(prefix="jaxdl-nb-embeddings-")


def train(name, *overrides):
    config = config_lib.apply_overrides(experiments.get_config(name), [*LIMIT, *overrides])
    workdir = os.path.join(root, name)
    result = loop.train(config, workdir, live=False)
    print(name, f"best validation epoch {result.best['epoch']}:",
          {split: round(m["rmse"], 4) for split, m in result.best["evals"].items() if "rmse" in m})
    return workdir, result


# %% [markdown]
# ## 1. One-hot times a matrix == a lookup (values and gradients)

# %%
table = jax.random.normal(jax.random.key(0), (10, 3))
ids = jnp.array([3, 0, 3, 9])
print(embedding.one_hot_embed(table, ids))
print("max |one-hot @ table - table[ids]|:",
      float(jnp.max(jnp.abs(embedding.one_hot_embed(table, ids) - embedding.lookup_embed(table, ids)))))
grads = [jax.grad(lambda t, f=f: jnp.sum(f(t, ids) ** 2))(table) for f in (embedding.one_hot_embed,
                                                                            embedding.lookup_embed)]
print("gradients equal:", bool(jnp.allclose(*grads)), "; rows with a gradient:",
      np.flatnonzero(np.abs(np.asarray(grads[1])).sum(1)).tolist(), "(only the ids looked up)")

# %% [markdown]
# ## 2. Entity embeddings of the diamonds' categorical columns

# %%
diamonds_dir, diamonds_run = train("diamonds_embeddings", *DIAMONDS)
display(Image(figures.learning_curves(diamonds_dir)))
columns = diamonds_run.state.params["embeddings"]["columns"]
fig_paths = []
for c, (column, levels) in enumerate(diamonds.LEVELS.items()):
    vectors = np.asarray(columns[c]["table"])
    fig_paths.append(embedding_figures.word_pca(vectors, list(levels), os.path.join(root, f"{column}.png"),
                                                f"diamonds: learned {column} embeddings ({vectors.shape[1]}-d), PCA"))
for path in fig_paths:
    display(Image(path))

# %% [markdown]
# ## 3. MovieLens: matrix factorisation with biases and a sigmoid range, and the split deep model

# %%
mf_dir, mf_run = train("movielens_mf", *MF)
deep_dir, deep_run = train("movielens_deep", *DEEP)
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, workdir in (("movielens_mf", mf_dir), ("movielens_deep", deep_dir)):
    records = [r for r in wd.read_metrics(workdir) if r["split"] == "validation"]
    ax.plot([r["epoch"] for r in records], [r["rmse"] for r in records], marker="o", label=name)
ax.set(xlabel="epoch", ylabel="validation RMSE")
ax.legend()
plt.show()
params = mf_run.state.params
print("shared offset (before the sigmoid range)", float(params["offset"]),
      "; item bias spread (sd)", float(jnp.std(params["item_bias"])),
      "; user bias spread (sd)", float(jnp.std(params["user_bias"])))

# %% [markdown]
# ## 4. Gradient descent vs momentum vs AdaGrad, written by hand, on the same MF model
# Minibatches of 256 for 10 epochs and full batch for 100, at a constant rate (rates chosen on
# validation: GD 0.3, momentum 0.9 at 0.3, AdaGrad 1.0); Adam is the reference (full mode).

# %%
spec = COMPARISONS["mf_optimizers"]
chosen = {label: list(spec.variants[label]) for label in OPTIMIZERS}
rows = variants.run(spec.experiment, chosen, os.path.join(root, "mf_optimizers"),
                    [*spec.overrides, *LIMIT, *MF, *OPTIMIZER_EPOCHS])
print(variants.table(rows, spec.metric))
fig, ax = plt.subplots(figsize=(6, 3.5))
for label in chosen:
    records = [r for r in wd.read_metrics(os.path.join(root, "mf_optimizers", label)) if r["split"] == "validation"]
    ax.plot([r["epoch"] for r in records], [r["rmse"] for r in records], marker="o", label=label)
ax.set(xlabel="epoch", ylabel="validation RMSE")
ax.legend()
plt.show()
