"""TFDS builders for the node-classification graphs of `jaxdl.data.graphs`.

Each example is a node; the undirected edge list is stored in the dataset's
metadata (`info.metadata["edges"]`: senders, receivers, weights, each edge both ways;
for the connectome also `directed_edges`, the synapse counts as recorded).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from jaxdl.data import graphs
from jaxdl.data.builders import common


def _info(builder, spec, class_names, homepage) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=builder,
        description=spec.description,
        features=tfds.features.FeaturesDict({
            "node": np.int32,
            "label": tfds.features.ClassLabel(names=list(class_names)),
        }),
        supervised_keys=("node", "label"),
        homepage=homepage,
        # Filled by _split_generators; saved beside the records and restored on load.
        metadata=tfds.core.MetadataDict(),
    )


def directed_edges(weights_NxN: np.ndarray) -> dict[str, list]:
    """Every nonzero A[i, j] (synapses from neuron i onto neuron j) as an edge i -> j."""
    senders, receivers = np.nonzero(weights_NxN)
    return {"senders": senders.tolist(), "receivers": receivers.tolist(),
            "weights": weights_NxN[senders, receivers].astype(float).tolist()}


def undirected_edges(weights_NxN: np.ndarray) -> dict[str, list]:
    """Both directions of every pair with nonzero A + A^T, weighted by A + A^T; self loops dropped."""
    sym = weights_NxN + weights_NxN.T
    np.fill_diagonal(sym, 0)
    receivers, senders = np.nonzero(sym)
    return {"senders": senders.tolist(), "receivers": receivers.tolist(),
            "weights": sym[receivers, senders].astype(float).tolist()}


def node_splits(labels: np.ndarray, per_class: dict[str, int], seed: int = 0) -> dict[str, np.ndarray]:
    """Per class, a fixed shuffle: the first per_class["train"] nodes train, and so on; the rest test."""
    rng = np.random.default_rng(seed)
    out = {name: [] for name in (*per_class, "test")}
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        start = 0
        for name, n in per_class.items():
            out[name].append(rows[start:start + n])
            start += n
        out["test"].append(rows[start:])
    return {name: np.sort(np.concatenate(parts)) for name, parts in out.items()}


class _NodeBuilder(common.OfflineBuilder, skip_registration=True):
    def _generate_examples(self, labels: np.ndarray, nodes: np.ndarray) -> Iterator:
        for node in nodes:
            yield int(node), {"node": int(node), "label": int(labels[node])}


class KarateClub(_NodeBuilder):
    """Zachary's karate club (networkx), 1 labelled node per club."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    def _graph(self):
        import networkx as nx

        g = nx.karate_club_graph()
        labels = np.array([graphs.KARATE_CLASSES.index(g.nodes[i]["club"]) for i in range(len(g))])
        return nx.to_numpy_array(g, weight="weight", nodelist=range(len(g))), labels

    def _info(self) -> tfds.core.DatasetInfo:
        return _info(self, graphs.KARATE_CLUB, graphs.KARATE_CLASSES,
                     "https://en.wikipedia.org/wiki/Zachary%27s_karate_club")

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is local
        weights, labels = self._graph()
        self.info.metadata["edges"] = undirected_edges(weights)
        nodes = np.arange(len(labels))
        train = np.array(graphs.KARATE_LEADERS)
        return {"train": self._generate_examples(labels, train),
                "test": self._generate_examples(labels, np.setdiff1d(nodes, train)),
                "nodes": self._generate_examples(labels, nodes)}


class DrosophilaConnectome(_NodeBuilder):
    """One hemisphere of the larval Drosophila mushroom body (graspologic's data files)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=side, description=f"{side} hemisphere")
                       for side in ("left", "right")]

    def _graph(self):
        files = graphs.drosophila_files(self.builder_config.name)
        weights = np.loadtxt(files["adjacency"])
        names = np.loadtxt(files["cell_labels"], dtype=str)
        return weights, np.array([graphs.DROSOPHILA_CLASSES.index(n) for n in names])

    def _info(self) -> tfds.core.DatasetInfo:
        return _info(self, graphs.DROSOPHILA[self.builder_config.name], graphs.DROSOPHILA_CLASSES,
                     "https://doi.org/10.1038/nature23455")

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is local
        weights, labels = self._graph()
        self.info.metadata["edges"] = undirected_edges(weights)
        self.info.metadata["directed_edges"] = directed_edges(weights)
        splits = node_splits(labels, graphs.DROSOPHILA_PER_CLASS)
        splits["nodes"] = np.arange(len(labels))
        return {name: self._generate_examples(labels, nodes) for name, nodes in splits.items()}
