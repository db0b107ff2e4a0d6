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
# # MNIST: a vanilla MLP and the Keras CNN
#
# Two of jaxdl's named experiments on the offline MNIST-5k digits (3,500 train / 500 validation /
# 1,000 test): `mnist_mlp` (784-100-10 ReLU, Adam) and `mnist_cnn` (conv32-pool-conv64-pool-
# dropout-dense, Adam). Everything below calls the library; the same runs are
# `jaxdl train mnist_mlp` and `jaxdl train mnist_cnn` on the command line.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
EPOCHS = 1 if SMALL else 10
LIMIT = ["data.max_train_examples=512", "train.eval_splits=('validation',)"] if SMALL else []

# %%
import tempfile

import matplotlib.pyplot as plt
from IPython.display import Image, display

from jaxdl import config as config_lib, experiments, figures
from jaxdl.train import loop, workdir as wd
from jaxdl.runs import saved
root = tempfile.mkdtemp(prefix="jaxdl-nb-mnist-")


def train(name, *overrides):
    config = config_lib.apply_overrides(
        experiments.get_config(name), [f"train.epochs={EPOCHS}", "train.num_devices=1", *LIMIT, *overrides])
    return loop.train(config, os.path.join(root, name), live=False)


# %% [markdown]
# ## The vanilla MLP

# %%
print(experiments.get_config("mnist_mlp").model)
mlp = train("mnist_mlp")
display(Image(figures.learning_curves(os.path.join(root, "mnist_mlp"))))

# %% [markdown]
# ## The CNN
# On CPU the convolutions run as im2col matmuls (`model.conv=auto`), equal to XLA's convolution.

# %%
cnn = train("mnist_cnn")
display(Image(figures.learning_curves(os.path.join(root, "mnist_cnn"))))

# %% [markdown]
# ## Side by side: validation accuracy per epoch

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name in ("mnist_mlp", "mnist_cnn"):
    records = [r for r in wd.read_metrics(os.path.join(root, name)) if r["split"] == "validation"]
    ax.plot([r["epoch"] for r in records], [r["accuracy"] for r in records], marker="o", label=name)
ax.set(xlabel="epoch", ylabel="validation accuracy")
ax.legend()
plt.show()
for name, result in (("mnist_mlp", mlp), ("mnist_cnn", cnn)):
    print(name, {split: round(m["accuracy"], 4) for split, m in result.final.items() if split != "train"})

# %% [markdown]
# ## Predictions of the trained CNN on test digits

# %%
from jaxdl import data

config, model, state = saved.restore(os.path.join(root, "mnist_cnn"))
test = data.load_arrays("mnist5k", "test", max_examples=12)
predicted = model.apply(state.params, test["image"]).argmax(-1)
fig, axes = plt.subplots(2, 6, figsize=(8, 3))
for ax, image, label, guess in zip(axes.flat, test["image"], test["label"], predicted):
    ax.imshow(image[..., 0], cmap="gray_r")
    ax.set_title(f"{guess} ({label})", color="black" if guess == label else "red")
    ax.axis("off")
plt.show()
