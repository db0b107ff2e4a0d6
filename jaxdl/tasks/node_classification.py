"""Semi-supervised node classification: a GCN over the whole graph, the loss on labelled nodes.

Batches are node ids and their labels ({"node", "label"}); the graph's edges and
features are constants inside the model, so the "train" split is just the labelled
nodes and the loss is the masked cross-entropy of Kipf & Welling.
"""

from __future__ import annotations

import ml_collections
import numpy as np

from jaxdl import data
from jaxdl.models import gnn, model_factory
from jaxdl.tasks import classification, losses
from jaxdl.tasks.base import Task

EDGE_WEIGHTS = ("binary", "raw", "log1p")
FEATURES = ("identity", "connectivity", "degrees")


def _weigh(w: np.ndarray, edge_weight: str) -> np.ndarray:
    if edge_weight not in EDGE_WEIGHTS:
        raise ValueError(f"unknown graph.edge_weight {edge_weight!r}; valid: {', '.join(EDGE_WEIGHTS)}")
    return {"binary": np.ones_like(w), "raw": w, "log1p": np.log1p(w)}[edge_weight]


def _metadata(name: str, data_dir: str | None):
    meta = data.source(name, "train", data_dir).dataset_info.metadata  # builds it on first use
    if "edges" not in meta:
        raise ValueError(f"dataset {name!r} stores no graph (no edges in its metadata)")
    return meta


def load_edges(name: str, data_dir: str | None, edge_weight: str = "binary") -> gnn.Edges:
    """The dataset's undirected edge list (each edge both ways), weighted as asked."""
    e = _metadata(name, data_dir)["edges"]
    w = _weigh(np.asarray(e["weights"], np.float32), edge_weight)
    return gnn.Edges(np.asarray(e["senders"], np.int32), np.asarray(e["receivers"], np.int32), w)


def node_features(name: str, data_dir: str | None, kind: str, num_nodes: int) -> np.ndarray | None:
    """identity: None (one-hot node ids); connectivity: each node's weighted (log1p) outgoing
    then incoming edges, N x 2N, so direction (who synapses onto whom) is visible to the GCN;
    degrees: log1p of out- and in-strength and out- and in-degree, standardised (N x 4)."""
    if kind not in FEATURES:
        raise ValueError(f"unknown graph.features {kind!r}; valid: {', '.join(FEATURES)}")
    if kind == "identity":
        return None
    meta = _metadata(name, data_dir)
    e = meta.get("directed_edges", meta["edges"])
    s, r = np.asarray(e["senders"]), np.asarray(e["receivers"])
    w = np.log1p(np.asarray(e["weights"], np.float32))
    if kind == "degrees":
        raw = np.stack([np.bincount(i, weights=v, minlength=num_nodes)
                        for i in (s, r) for v in (np.asarray(e["weights"], np.float64), None)], 1)
        x = np.log1p(raw)
        return ((x - x.mean(0)) / np.maximum(x.std(0), 1e-6)).astype(np.float32)
    x = np.zeros((num_nodes, 2 * num_nodes), np.float32)
    x[s, r] = w
    x[r, num_nodes + s] = w
    return x


def graph_model(config: ml_collections.ConfigDict) -> gnn.GraphModel:
    """The config's GCN bound to its dataset's graph (the task's model, plus the full forward pass)."""
    spec = data.get_spec(config.data.name)
    if "num_nodes" not in spec.meta:
        raise ValueError(f"the node_classification task needs a graph dataset; {spec.name!r} is not one "
                         f"(graph datasets: {', '.join(n for n, s in data.DATASETS.items() if 'num_nodes' in s.meta)})")
    factory = model_factory("node_classification", config.model.name)
    data_dir, n = config.data.data_dir or None, spec.meta["num_nodes"]
    edges = load_edges(spec.name, data_dir, config.graph.edge_weight)
    features = node_features(spec.name, data_dir, config.graph.features, n)
    hparams = {k: v for k, v in config.model.items() if k != "name"}
    return factory(n, edges, spec.num_classes, features, **hparams)


def make(config: ml_collections.ConfigDict) -> Task:
    loss_fn = losses.make_loss("cross_entropy", "softmax")
    return classification.from_model(graph_model(config).model, loss_fn, input_key="node")
