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
# # A graph convolutional network: Zachary's karate club and the Drosophila connectome
#
# `karate_gcn`: a two-layer GCN (identity features, 16-2 tanh; messages summed over the edge
# list with `jax.ops.segment_sum`) learns the club split from ONE labelled member per club,
# the instructor (node 0) and the administrator (node 33). `drosophila_gcn`: the same model
# (32-2, degree features, log synapse counts) classifies the left mushroom body's neurons into
# 4 cell types from 5 labelled neurons each. The last hidden layer is 2-D, so the node
# embeddings plot as they are (`jaxdl plot --figure node_embeddings`).

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
KARATE_EPOCHS = 50 if SMALL else 200
DROSOPHILA_EPOCHS = 30 if SMALL else 300
SEEDS = 2 if SMALL else 10

# %%
import tempfile

import numpy as np
from IPython.display import Image, display

from jaxdl import config as config_lib, data, experiments, sweep

from jaxdl.figures import embeddings as embedding_figures
from jaxdl.tasks import node_classification
from jaxdl.train import loop

root = tempfile.mkdtemp(prefix="jaxdl-nb-gcn-")


def config(name, epochs):
    return config_lib.apply_overrides(experiments.get_config(name), [f"train.epochs={epochs}",
                                                                     f"train.eval_every_epochs={epochs // 4}"])


# %% [markdown]
# ## The karate club from two labelled members

# %%
karate = config("karate_gcn", KARATE_EPOCHS)
karate_dir = os.path.join(root, "karate_gcn")
result = loop.train(karate, karate_dir, live=False)
test = result.final["test"]
print(f"test accuracy {test['accuracy']:.4f}: {int(test['count'] - test['correct'])} of "
      f"{int(test['count'])} unlabelled members misclassified")
display(Image(embedding_figures.node_embeddings(karate_dir)))

# %% [markdown]
# ### Which members

# %%
logits, _ = node_classification.graph_model(karate).forward(result.state.params)
predicted = np.asarray(logits).argmax(-1)
nodes = data.load_arrays("karate_club", "nodes")
wrong = nodes["node"][predicted[nodes["node"]] != nodes["label"]]
print("misclassified members:", wrong.tolist())

# %% [markdown]
# ## The same over seeds, as one vmapped sweep (`jaxdl sweep karate_gcn --seeds 10`)

# %%
seeds = sweep.run(karate, seeds=SEEDS, num_devices=1, live=False)
print([(row["seed"], round(row["final_test_accuracy"], 4)) for row in seeds.rows])

# %% [markdown]
# ## Drosophila larva, left mushroom body: 4 cell types

# %%
fly_dir = os.path.join(root, "drosophila_gcn")
fly = loop.train(config("drosophila_gcn", DROSOPHILA_EPOCHS), fly_dir, live=False)
print({split: round(m["accuracy"], 4) for split, m in fly.final.items() if split != "train"})
display(Image(embedding_figures.node_embeddings(fly_dir)))
