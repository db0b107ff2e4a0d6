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
# # Nielsen, *Neural Networks and Deep Learning*, chapters 1-3
#
# The book's `network.py` (ch.1: 784-30-10 sigmoid, N(0,1) init, quadratic cost, SGD eta=3,
# batch 10) and `network2.py` (ch.3: cross-entropy, N(0,1/n_in) init, L2), on MNIST-5k:
#
# 1. losses: quadratic vs cross-entropy cost;
# 2. initialisation: N(0,1) vs N(0,1/n_in) weights, over seeds (one vmapped sweep);
# 3. regularisation: L2 strength;
# 4. learning-rate schedule: the "halve when validation stops improving" rule;
# 5. grid search: mini-batch size x learning rate.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
EPOCHS = 1 if SMALL else 10
SEEDS = 2 if SMALL else 4
LIMIT = ["data.max_train_examples=500"] if SMALL else []

# %%
import tempfile

import matplotlib.pyplot as plt
from IPython.display import Image, display

from jaxdl import config as config_lib, experiments, sweep
from jaxdl.figures import sweep as plots
from jaxdl.train import loop, workdir as wd

root = tempfile.mkdtemp(prefix="jaxdl-nb-nielsen-")


def config(name, *overrides):
    return config_lib.apply_overrides(experiments.get_config(name), [f"train.epochs={EPOCHS}", *LIMIT, *overrides])


def curve(workdir, split="validation", metric="accuracy"):
    records = [r for r in wd.read_metrics(workdir) if r["split"] == split]
    return [r["epoch"] for r in records], [r[metric] for r in records]


# %% [markdown]
# ## 1. Quadratic vs cross-entropy cost (sigmoid outputs, same net and SGD)

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for label, overrides in [("quadratic (ch.1)", []),
                         ("cross-entropy", ["loss.name=cross_entropy", "optimizer.learning_rate=0.5"])]:
    workdir = os.path.join(root, label.split()[0])
    loop.train(config("nielsen_ch1", "train.eval_splits=('validation',)", *overrides), workdir, live=False)
    ax.plot(*curve(workdir), marker="o", label=label)
ax.set(xlabel="epoch", ylabel="validation accuracy", title="Cost functions")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. Weight initialisation over seeds: one compiled program for all members

# %%
init = sweep.run(config("nielsen_ch3", "train.eval_splits=('validation',)"), seeds=SEEDS,
                 grid={"model.kernel_init": ["normal", "scaled_normal"]}, num_devices=1, live=False)
path = plots.plot_curves(init.curves, os.path.join(root, "init_curves.png"),
                         color_by={r["member"]: r["model.kernel_init"] for r in init.rows},
                         color_label="model.kernel_init")
display(Image(path))

# %% [markdown]
# ## 3. L2 regularisation strength (lambda / n, n = 3,500 training images)

# %%
l2 = sweep.run(config("nielsen_ch3", "train.eval_splits=('validation',)"), seeds=SEEDS,
               grid={"optimizer.l2": [0.0, 1.0 / 3500, 5.0 / 3500, 50.0 / 3500]}, num_devices=1, live=False)
display(Image(plots.plot_metric_vs(l2.rows, "optimizer.l2", os.path.join(root, "l2.png"))))

# %% [markdown]
# ## 4. Learning-rate schedule: halve after `patience` epochs without improvement
# The loop's plateau rule (Nielsen's "no-improvement-in-ten", shortened here) logs the rate it used.

# %%
workdir = os.path.join(root, "plateau")
loop.train(config("nielsen_ch3", "optimizer.schedule.name=plateau", "optimizer.schedule.patience=1",
                  "train.eval_splits=('validation',)"), workdir, live=False)
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3))
a1.plot(*curve(workdir), marker="o")
a1.set(xlabel="epoch", ylabel="validation accuracy")
a2.plot(*curve(workdir, "train", "learning_rate"), marker="o")
a2.set(xlabel="epoch", ylabel="learning rate", yscale="log")
plt.show()

# %% [markdown]
# ## 5. Grid search: mini-batch size x learning rate (one compile per batch size)

# %%
grid = sweep.run(config("nielsen_ch1", "train.eval_splits=('validation',)"), seeds=1 if SMALL else 2,
                 grid={"data.batch_size": [50] if SMALL else [10, 50, 100],
                       "optimizer.learning_rate": [0.3, 1.0, 3.0]},
                 num_devices=1, live=False)
for path in plots.write_all(grid.rows, grid.curves, grid.swept, root):
    display(Image(path))
