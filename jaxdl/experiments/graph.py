"""Graph experiments: GCN node classification on the karate club and the Drosophila connectome.

`jaxdl plot --workdir DIR --figure node_embeddings` draws the last hidden layer (2-D here)
of every node, coloured by class, with the labelled nodes marked.
"""

from __future__ import annotations

import ml_collections

from jaxdl.experiments import common


def _gcn(dataset: str) -> ml_collections.ConfigDict:
    c = common.base(task="node_classification", dataset=dataset)
    c.model = ml_collections.ConfigDict(dict(
        name="gcn", hidden=(16, 2), activation="tanh", dropout=0.0, dropout_impl="nnx",
        propagation="segment_sum"))  # or "dense": the N x N reference
    # edge_weight: binary, raw or log1p; features: identity (one-hot ids) or connectivity (N x 2N)
    c.graph = ml_collections.ConfigDict(dict(edge_weight="binary", features="identity"))
    c.optimizer.update(name="adamw", learning_rate=0.01, weight_decay=5e-4)
    c.data.update(on_device=True)
    c.train.num_devices = 1  # a whole small graph per step: nothing to split
    c.train.checkpoint_every_steps = -1  # one step per epoch: a save per epoch would dominate
    return c


def karate_gcn() -> ml_collections.ConfigDict:
    """GCN (identity features, 16-2 tanh) on Zachary's karate club from 1 labelled node per club."""
    c = _gcn("karate_club")
    c.data.update(batch_size=2, eval_batch_size=34)  # the two labelled leaders are the whole train split
    c.train.update(epochs=200, eval_every_epochs=50, eval_splits=("test",), progress_updates_per_epoch=1)
    return c


def drosophila_gcn() -> ml_collections.ConfigDict:
    """GCN (degree features, 32-2 tanh, log synapse counts) on the left Drosophila mushroom body, 4 cell types."""
    c = _gcn("drosophila_left")
    c.model.hidden = (32, 2)
    # Tried on validation: identity or N x 2N connectivity features reach ~0.5-0.65 there
    # (test ~0.70); in/out strength and degree ~0.6-0.7 (test ~0.76).
    c.graph.update(edge_weight="log1p", features="degrees")
    c.data.update(batch_size=20, eval_batch_size=256)  # 5 labelled neurons per cell type
    c.train.update(epochs=300, eval_every_epochs=50, eval_splits=("validation", "test"),
                   progress_updates_per_epoch=1, keep_best=True)
    return c
