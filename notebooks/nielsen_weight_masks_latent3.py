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
# # What the simplest nets learn: weight masks and a 3-unit latent space
#
# `nielsen_weight_masks`: a 784-10 softmax net, whose ten weight vectors look like digit
# templates when drawn as 28x28 images (one frame per epoch in the GIF).
# `nielsen_latent3`: a 784-10-3-10 sigmoid net; its 3-unit layer places each digit in a cube.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
EPOCHS = 2 if SMALL else 20
LIMIT = ["data.max_train_examples=500", "train.eval_splits=('validation',)"] if SMALL else []

# %%
import tempfile

from IPython.display import Image, display

from jaxdl import config as config_lib, experiments, figures
from jaxdl.train import loop

root = tempfile.mkdtemp(prefix="jaxdl-nb-masks-")


def train(name):
    config = config_lib.apply_overrides(
        experiments.get_config(name), [f"train.epochs={EPOCHS}", f"train.keep_checkpoints={EPOCHS}", *LIMIT])
    workdir = os.path.join(root, name)
    loop.train(config, workdir, live=False)
    return workdir


# %% [markdown]
# ## Weight masks

# %%
masks = figures.weight_masks(train("nielsen_weight_masks"))
display(Image(masks[0]))
print("animation over epochs:", masks[1])

# %% [markdown]
# ## The 3-unit latent space

# %%
latent = figures.latent3(train("nielsen_latent3"))
for path in latent:
    if path.endswith(".png"):
        display(Image(path))
print(latent)
