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
# # Initialisation sweep: initialiser x scale x seeds in one vmapped program
#
# `jaxdl.sweep.run` trains every member (a seed, a kernel initialiser and a scale of the drawn
# weights) of `mnist_mlp` at once: one compiled program, members along a vmapped axis, each
# with its own data order. Diverged members (NaN) are flagged, not averaged in.
# Command line: `jaxdl sweep mnist_mlp --seeds 4 --set model.init_scale=0.001,0.01,0.1,1,10`.

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
EPOCHS = 1 if SMALL else 10
SEEDS = 2 if SMALL else 4
SCALES = [0.01, 1.0] if SMALL else [0.001, 0.01, 0.1, 1.0, 10.0]
LIMIT = ["data.max_train_examples=512"] if SMALL else []

# %%
import tempfile

from IPython.display import Image, display

from jaxdl import config as config_lib, experiments, sweep
from jaxdl.figures import sweep as plots
config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [
    f"train.epochs={EPOCHS}", "train.eval_splits=('validation',)", *LIMIT])
workdir = tempfile.mkdtemp(prefix="jaxdl-nb-init-sweep-")
result = sweep.run(config, seeds=SEEDS, workdir=workdir, num_devices=1, live=False,
                   grid={"model.kernel_init": ["lecun_normal", "normal"], "model.init_scale": SCALES})
print(f"{len(result.rows)} members, {result.member_steps:,} model-steps in {result.seconds:.1f} s")

# %% [markdown]
# ## Final validation accuracy per setting (mean over seeds, min-max band)

# %%
for path in plots.write_all(result.rows, result.curves, result.swept, workdir):
    display(Image(path))

# %% [markdown]
# ## The table: one row per member

# %%
for row in result.rows:
    print({k: row[k] for k in ("seed", "model.kernel_init", "model.init_scale", "diverged",
                               "final_validation_accuracy")})
