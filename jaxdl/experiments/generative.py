"""Generative models of binarised images: a VAE and MADE.

Both default to `mnist5k` (3,500 train / 500 validation / 1,000 test real digits,
offline); `--set data.name=fashion_mnist_debian` trains on the full Fashion-MNIST
(55,000 / 5,000 / 10,000, offline). Training binarises dynamically, evaluation with
a fixed draw per image (see `jaxdl.tasks.binary`). On 3,500 images both models
overfit within tens of epochs: the state with the best validation NLL is kept
(`train.keep_best`) and `jaxdl evaluate --workdir DIR --best` measures it.
"""

from __future__ import annotations

import ml_collections

from jaxdl.experiments import common


def vae_mnist() -> ml_collections.ConfigDict:
    """VAE 784-500-(20 Gaussian)-500-784 Bernoulli, Adam; negative ELBO and IWAE NLL (nats)."""
    c = common.base("vae", "mnist5k")
    c.model = ml_collections.ConfigDict(dict(name="vae", hidden=(500,), latent_dim=20, activation="relu",
                                               variance="exp", init="lecun_normal"))
    # The IWAE bound at every evaluation; `jaxdl evaluate --set vae.iwae_samples=5000` for the final number.
    c.vae = ml_collections.ConfigDict(dict(iwae_samples=100, iwae_chunk=50))
    # Guppy16's choices (model.variance=softplus, model.init=torch_default; comparison vae_original)
    # measured at 20 epochs, seeds 0-2, test -ELBO of the best-validation state: on this recipe
    # 118.28 +- 0.22 vs 116.77 +- 0.30, so the defaults stay; on Guppy16's own (SiLU, batch 32,
    # AdamW 1e-2, plus optimizer.decay_biases=true) 112.41 +- 0.15 vs 113.00 +- 0.23.
    c.optimizer.update(name="adam", learning_rate=1e-3)
    c.data.batch_size = 100
    c.train.num_devices = 1  # small MLPs: splitting a batch of 100 over devices gains nothing
    c.data.eval_batch_size = 200  # x iwae_chunk x 784 floats per chunk of samples
    c.train.epochs = 100
    c.train.eval_every_epochs = 5
    c.train.keep_best = True
    return c


def made_mnist() -> ml_collections.ConfigDict:
    """MADE 784-500-784 ReLU, order-agnostic over 32 mask sets, Adam; NLL for mask 0 and the 32-mask ensemble."""
    c = common.base("made", "mnist5k")
    c.model = ml_collections.ConfigDict(
        dict(name="made", hidden=(500,), activation="relu", ordering="random", connectivity="random",
             init="lecun_normal"))
    # num_masks=1 with ordering=natural: the single-order MADE; 0: a new mask set every minibatch.
    # model.init=torch_default (PyTorch's nn.Linear init) reproduces christinakim's MADE.py
    # (comparison made_original: 784-784 natural, 1 mask): test NLL 165.5 / 138.0 / 126.6 at
    # epochs 10 / 20 / 30 and 111.20 +- 0.07 at 100 (seeds 0-2; the original 166 / 138 / 126,
    # 111.05), where lecun-normal gets 180.2 +- 1.1 at epoch 10 and 113.73 at 100 (seed 0). The
    # default stays lecun-normal until the order-agnostic numbers are measured with it.
    c.made = ml_collections.ConfigDict(dict(num_masks=32, eval_masks=32))
    c.optimizer.update(name="adam", learning_rate=1e-3)
    c.data.batch_size = 100
    c.train.num_devices = 1
    c.data.eval_batch_size = 500
    c.train.epochs = 100
    c.train.eval_every_epochs = 5
    c.train.keep_best = True
    return c
