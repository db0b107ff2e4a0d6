"""Semi-supervised node classification: a GCN over the whole graph, the loss on labelled nodes.

Batches are node ids and their labels ({"node", "label"}); the graph's edges and
features are constants inside the model, so the "train" split is just the labelled
nodes and the loss is the masked cross-entropy of Kipf & Welling.
"""

from __future__ import annotations

import ml_collections
import numpy as np

from jaxdl import data
from jaxdl.models import gnn
from jaxdl.tasks import classification
from jaxdl.tasks.base import Task
from jaxdl.train import losses

EDGE_WEIGHTS = ("binary", "raw", "log1p")


def load_edges(name: str, data_dir: str | None, edge_weight: str = "binary") -> gnn.Edges:
    """The dataset's undirected edge list (each edge both ways), weighted as asked."""
    if edge_weight not in EDGE_WEIGHTS:
        raise ValueError(f"unknown graph.edge_weight {edge_weight!r}; valid: {', '.join(EDGE_WEIGHTS)}")
    meta = data.source(name, "train", data_dir).dataset_info.metadata  # builds it on first use
    if "edges" not in meta:
        raise ValueError(f"dataset {name!r} stores no graph (no edges in its metadata)")
    e = meta["edges"]
    w = np.asarray(e["weights"], np.float32)
    w = {"binary": np.ones_like(w), "raw": w, "log1p": np.log1p(w)}[edge_weight]
    return gnn.Edges(np.asarray(e["senders"], np.int32), np.asarray(e["receivers"], np.int32), w)


def graph_model(config: ml_collections.ConfigDict) -> gnn.GraphModel:
    """The config's GCN bound to its dataset's graph (the task's model, plus the full forward pass)."""
    spec = data.get_spec(config.data.name)
    if "num_nodes" not in spec.meta:
        raise ValueError(f"the node_classification task needs a graph dataset; {spec.name!r} is not one "
                         f"(graph datasets: {', '.join(n for n, s in data.DATASETS.items() if 'num_nodes' in s.meta)})")
    if config.model.name != "gcn":
        raise ValueError(f"node_classification trains model 'gcn'; got {config.model.name!r}")
    edges = load_edges(spec.name, config.data.data_dir or None, config.graph.edge_weight)
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    return gnn.make(spec.meta["num_nodes"], edges, spec.num_classes, None, **hparams)


def make(config: ml_collections.ConfigDict) -> Task:
    loss_fn = losses.make_loss("cross_entropy", "softmax")
    return classification.from_model(graph_model(config).model, loss_fn, input_key="node")
