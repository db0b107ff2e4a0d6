"""GCN: edge-list message passing equals the dense-adjacency reference; permutation equivariance."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.models import gnn
from jaxdl.train import loop
from tests.helpers import experiment_config_or_skip

N, F, K = 7, 5, 3


def _random_graph(seed=0, num_nodes=N, num_edges=12):
    """An undirected weighted graph, each edge listed both ways, no self loops."""
    rng = np.random.default_rng(seed)
    pairs = {tuple(sorted(rng.choice(num_nodes, 2, replace=False))) for _ in range(num_edges)}
    a, b = np.array(sorted(pairs)).T
    w = rng.uniform(0.5, 2.0, len(a))
    return gnn.Edges(np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([w, w]))


def _features(seed=1):
    return np.random.default_rng(seed).normal(size=(N, F)).astype(np.float32)


def test_normalized_adjacency_is_the_symmetric_formula():
    edges = _random_graph()
    a_NxN = np.zeros((N, N))
    a_NxN[edges.receivers_E, edges.senders_E] = edges.weights_E
    a_hat = a_NxN + np.eye(N)
    d_inv_sqrt = 1 / np.sqrt(a_hat.sum(1))
    expected = d_inv_sqrt[:, None] * a_hat * d_inv_sqrt[None, :]
    got = gnn.dense_adjacency(gnn.normalize(edges, N), N)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, got.T, rtol=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_propagate_equals_dense_matmul(jit):
    norm = gnn.normalize(_random_graph(), N)
    h = jnp.asarray(_features())
    fn = jax.jit(gnn.propagate) if jit else gnn.propagate
    chex.assert_trees_all_close(fn(h, norm), gnn.dense_adjacency(norm, N) @ h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("features", ["given", "identity"])
def test_segment_sum_gcn_equals_dense_gcn(features):
    edges = _random_graph()
    x = _features() if features == "given" else None
    sparse = gnn.make(N, edges, K, x, hidden=(8, 2), activation="tanh")
    dense = gnn.make(N, edges, K, x, hidden=(8, 2), activation="tanh", propagation="dense")
    params = sparse.model.init(jax.random.key(0))
    chex.assert_trees_all_equal(params, dense.model.init(jax.random.key(0)))
    (logits, hidden), (ref_logits, ref_hidden) = sparse.forward(params), dense.forward(params)
    chex.assert_shape((logits, hidden), ((N, K), (N, 2)))
    chex.assert_trees_all_close((logits, hidden), (ref_logits, ref_hidden), rtol=1e-5, atol=1e-5)
    nodes = jnp.array([3, 0, 6])
    chex.assert_trees_all_close(sparse.model.apply(params, nodes), logits[nodes])


def test_identity_features_equal_explicit_one_hot_features():
    edges = _random_graph()
    implicit = gnn.make(N, edges, K, None, hidden=(4,))
    explicit = gnn.make(N, edges, K, np.eye(N, dtype=np.float32), hidden=(4,))
    params = implicit.model.init(jax.random.key(2))
    chex.assert_trees_all_close(implicit.forward(params)[0], explicit.forward(params)[0], rtol=1e-5, atol=1e-6)


def test_permuting_nodes_permutes_outputs():
    edges, x = _random_graph(), _features()
    perm = np.random.default_rng(3).permutation(N)  # new node j is old node perm[j]
    new_id = np.argsort(perm)
    permuted_edges = gnn.Edges(new_id[edges.senders_E], new_id[edges.receivers_E], edges.weights_E)
    model = gnn.make(N, edges, K, x, hidden=(8,))
    permuted = gnn.make(N, permuted_edges, K, x[perm], hidden=(8,))
    params = model.model.init(jax.random.key(0))
    logits = model.forward(params)[0]
    permuted_logits = permuted.forward(params)[0]
    chex.assert_trees_all_close(permuted_logits, logits[perm], rtol=1e-5, atol=1e-6)
    # Not trivially equal: the nodes' outputs differ from one another.
    assert float(jnp.abs(logits - logits[perm]).max()) > 1e-3


def test_dropout_needs_a_key_and_changes_training_outputs():
    model = gnn.make(N, _random_graph(), K, _features(), hidden=(8,), dropout=0.5)
    params = model.model.init(jax.random.key(0))
    with pytest.raises(ValueError, match="needs a `key`"):
        model.forward(params, train=True)
    a = model.forward(params, key=jax.random.key(1), train=True)[0]
    assert float(jnp.abs(a - model.forward(params)[0]).max()) > 1e-4


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="valid: segment_sum, dense"):
        gnn.make(N, _random_graph(), K, propagation="sparse")
    model = gnn.make(N, _random_graph(), K)
    with pytest.raises(ValueError, match="vector of node indices"):
        model.model.apply(model.model.init(jax.random.key(0)), jnp.zeros((2, 2), jnp.int32))


@pytest.mark.slow
def test_karate_gcn_dense_reference_trains_to_the_same_params(tmp_path, data_dir):
    overrides = ("train.epochs=20", "train.eval_every_epochs=20")
    a = loop.train(experiment_config_or_skip(data_dir, "karate_gcn", *overrides), str(tmp_path / "a"), live=False)
    dense = experiment_config_or_skip(data_dir, "karate_gcn", *overrides, "model.propagation=dense")
    b = loop.train(dense, str(tmp_path / "b"), live=False)
    np.testing.assert_allclose(a.final["test"]["loss"], b.final["test"]["loss"], rtol=1e-4)
