"""Graph datasets (karate club, drosophila): documented counts, undirected edges, labelled leaders, splits."""

import numpy as np
import pytest

from jaxdl import data

# Documented in jaxdl.data.graphs.
COUNTS = {
    "karate_club": {"train": 2, "test": 32, "nodes": 34},
    "drosophila_left": {"train": 20, "validation": 20, "test": 169, "nodes": 209},
}


def _available(name):
    ok, why = data.availability(name)
    if not ok:
        pytest.skip(why)


@pytest.mark.parametrize("name", list(COUNTS))
def test_counts_are_the_documented_ones(name, data_dir):
    _available(name)
    for split, n in COUNTS[name].items():
        assert len(data.source(name, split, data_dir)) == n, split


def test_graph_edges_are_undirected_and_the_leaders_are_labelled(data_dir):
    _available("karate_club")
    from jaxdl.tasks import node_classification

    edges = node_classification.load_edges("karate_club", data_dir)
    pairs = set(zip(edges.senders_E.tolist(), edges.receivers_E.tolist()))
    assert len(pairs) == 2 * 78 and all((r, s) in pairs for s, r in pairs)
    train = data.load_arrays("karate_club", "train", data_dir)
    order = np.argsort(train["node"])  # TFDS stores examples in its own order
    np.testing.assert_array_equal(train["node"][order], [0, 33])
    np.testing.assert_array_equal(train["label"][order], [0, 1])
    _available("drosophila_left")
    splits = {s: set(data.load_arrays("drosophila_left", s, data_dir)["node"].tolist())
              for s in ("train", "validation", "test")}
    assert not (splits["train"] & splits["test"]) and not (splits["validation"] & splits["test"])
    assert len(splits["train"] | splits["validation"] | splits["test"]) == 209
    x = node_classification.node_features("drosophila_left", data_dir, "degrees", 209)
    assert x.shape == (209, 4) and np.allclose(x.mean(0), 0, atol=1e-5)
