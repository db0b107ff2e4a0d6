"""Collaborative filtering on MovieLens ml-latest-small (offline, random 72/8/20 split by rating).

Hyperparameters are chosen on the validation split; test is reported, never tuned on.
`train.keep_best` keeps the state of the epoch with the best validation RMSE.
"""

from __future__ import annotations

import ml_collections

from jaxdl.experiments import common


def base() -> ml_collections.ConfigDict:
    c = common.base("regression", "movielens_small")
    c.data.batch_size = 256
    c.data.eval_batch_size = 2000
    c.train.num_devices = 1  # embedding gathers of a small batch: nothing to split
    c.train.keep_best = True
    c.train.checkpoint_every_steps = -1
    # lambda of Funk's per-rating penalty on the embedding rows and biases a rating uses.
    c.loss = ml_collections.ConfigDict(dict(l2_per_rating=0.0, l2_bias=0.0))
    return c


def movielens_mf() -> ml_collections.ConfigDict:
    """Dot-product matrix factorisation with user/item biases and a 0..5.5 sigmoid range."""
    c = base()
    c.model = ml_collections.ConfigDict(dict(
        name="cf_dot", factors=50, biases=True, y_range=(0.0, 5.5), center_on_mean=True,
        embed_init_scale=0.01, impl="lookup"))
    c.optimizer.update(name="adamw", learning_rate=3e-3, weight_decay=0.1)
    c.train.epochs = 20
    return c


def movielens_deep() -> ml_collections.ConfigDict:
    """The "split" deep model: user and movie embeddings concatenated into an MLP."""
    c = base()
    c.model = ml_collections.ConfigDict(dict(
        name="cf_split", user_factors=50, item_factors=50, hidden=(100,), activation="relu", dropout=0.0,
        y_range=(0.0, 5.5), center_on_mean=True, embed_init_scale=0.01, impl="lookup"))
    c.optimizer.update(name="adamw", learning_rate=3e-3, weight_decay=0.1)
    c.train.epochs = 20
    return c
