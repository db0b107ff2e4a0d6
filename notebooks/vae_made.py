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
# # A VAE and MADE on binarised MNIST digits
#
# `vae_mnist`: 784-500-(20 Gaussian)-500-784 Bernoulli VAE; its loss is the negative ELBO
# (reconstruction + KL, nats per image) and evaluation adds the IWAE bound on the NLL.
# A second VAE with a 2-D latent space draws the manifold and the test set's posterior means.
# `made_mnist`: an order-agnostic MADE (784-500-784, 32 mask sets); NLL for mask set 0 and for
# the 32-mask ensemble; samples are drawn pixel by pixel. Figures are jaxdl's
# (`jaxdl plot --figure vae_reconstructions|vae_samples|vae_manifold|vae_latents|made_samples`).

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
# Small mode: 64 hidden units, one epoch of 500 digits, 10 IWAE samples, 2 MADE masks.
COMMON = (["model.hidden=(64,)", "data.max_train_examples=500", "train.epochs=1", "train.eval_every_epochs=1",
           "train.eval_splits=('validation',)", "train.checkpoint_every_steps=-1"] if SMALL else [])
VAE_SIZE = ["vae.iwae_samples=10", "vae.iwae_chunk=10"] if SMALL else []
MADE_SIZE = ["made.num_masks=2", "made.eval_masks=2"] if SMALL else []
LATENTS = (2,) if SMALL else (20, 2)  # the 20-D VAE is the experiment; the 2-D one is for pictures

# %%
import tempfile

from IPython.display import Image, display

from jaxdl import config as config_lib, experiments, figures

from jaxdl.figures import generative as figures_generative
from jaxdl.train import loop

root = tempfile.mkdtemp(prefix="jaxdl-nb-generative-")


def train(name, run, *overrides):
    config = config_lib.apply_overrides(experiments.get_config(name), [*COMMON, *overrides])
    workdir = os.path.join(root, run)
    result = loop.train(config, workdir, live=False)
    evals = result.best["evals"] if result.best else result.final  # the kept best-validation state
    print(run, {split: {k: round(v, 2) for k, v in m.items() if k != "count"}
                for split, m in evals.items() if split != "train"})
    return workdir


# %% [markdown]
# ## The VAE: negative ELBO = reconstruction + KL, and the IWAE bound

# %%
vae_dirs = {latent: train("vae_mnist", f"vae_latent{latent}", f"model.latent_dim={latent}", *VAE_SIZE)
            for latent in LATENTS}
display(Image(figures.learning_curves(vae_dirs[LATENTS[0]])))

# %% [markdown]
# ## Reconstructions (odd rows: test digits; even rows: decoder means) and samples from the prior

# %%
for latent, workdir in vae_dirs.items():
    display(Image(figures_generative.vae_reconstructions(workdir)))
    display(Image(figures_generative.vae_samples(workdir)))

# %% [markdown]
# ## The 2-D latent space: the decoder over a grid of z, and where the test digits land

# %%
display(Image(figures_generative.vae_manifold(vae_dirs[2])))
display(Image(figures_generative.vae_latents(vae_dirs[2])))

# %% [markdown]
# ## MADE: the NLL per mask set and of the ensemble, and samples drawn pixel by pixel

# %%
made_dir = train("made_mnist", "made_mnist", *MADE_SIZE)
display(Image(figures.learning_curves(made_dir)))
display(Image(figures_generative.made_samples(made_dir)))
