"""Graph convolutional network (Kipf & Welling 2017) with message passing over an edge list.

A GCN layer is H' = act(Â H W) with Â = D^-1/2 (A + I) D^-1/2. Â is never built:
`propagate` sends each edge's weighted message h[sender] to its receiver and adds
them up with `jax.ops.segment_sum`, so memory grows with edges, not nodes squared.
`dense_adjacency` builds Â as a matrix, the reference the edge-list version is
tested against on small graphs.

The model is a PureModel over node indices: `apply(params, nodes_B)` runs the
whole graph (its edges and features are constants closed over) and returns the
logits of the nodes asked for, so semi-supervised node classification is
ordinary classification of node ids, with the loss over the labelled nodes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxdl.models import dropout as dropout_lib, inits
from jaxdl.models.pure import PureModel, binder


class Edges(NamedTuple):
    """Directed, weighted edges: the message from `senders_E[e]` reaches `receivers_E[e]`."""

    senders_E: jax.Array
    receivers_E: jax.Array
    weights_E: jax.Array


def normalize(edges: Edges, num_nodes: int) -> Edges:
    """The edges of Â = D^-1/2 (A + I) D^-1/2, self loops added (D: weighted degree of A + I).

    Undirected graphs should list each edge both ways; then Â is symmetric.
    """
    loops = jnp.arange(num_nodes)
    senders = jnp.concatenate([jnp.asarray(edges.senders_E), loops])
    receivers = jnp.concatenate([jnp.asarray(edges.receivers_E), loops])
    weights = jnp.concatenate([jnp.asarray(edges.weights_E, jnp.float32), jnp.ones(num_nodes)])
    degree_N = jax.ops.segment_sum(weights, receivers, num_segments=num_nodes)
    inv_sqrt_N = jax.lax.rsqrt(degree_N)
    return Edges(senders, receivers, weights * inv_sqrt_N[senders] * inv_sqrt_N[receivers])


def propagate(h_NxF: jax.Array, edges: Edges) -> jax.Array:
    """Â h: every receiver adds up its senders' weighted features."""
    messages_ExF = h_NxF[edges.senders_E] * edges.weights_E[:, None]
    return jax.ops.segment_sum(messages_ExF, edges.receivers_E, num_segments=h_NxF.shape[0])


def dense_adjacency(edges: Edges, num_nodes: int) -> jax.Array:
    """The N x N matrix of `edges` (row = receiver): the reference for small graphs only."""
    return jnp.zeros((num_nodes, num_nodes)).at[edges.receivers_E, edges.senders_E].add(edges.weights_E)


class GCN(nnx.Module):
    """Graph convolutions of widths `sizes`; activation (and dropout) between layers.

    `num_features=0` means identity node features (one-hot node ids, as in Kipf's
    karate club demo): the first layer's input is then its own weight rows, read
    directly instead of multiplying an N x N identity.
    """

    def __init__(self, num_nodes: int, num_features: int, sizes: Sequence[int], *, activation: str = "relu",
                 dropout: float = 0.0, dropout_impl: str = "nnx", rngs: nnx.Rngs):
        widths = (num_features or num_nodes, *sizes)
        self.layers = nnx.List(nnx.Linear(a, b, rngs=rngs) for a, b in zip(widths[:-1], widths[1:]))
        self.act = inits.activation(activation)
        self.dropout = dropout_lib.make(dropout, dropout_impl)
        self.identity_features = num_features == 0

    def __call__(self, x_NxF: jax.Array | None, propagate_fn, *, train: bool = False,
                 rngs: nnx.Rngs | None = None) -> tuple[jax.Array, jax.Array | None]:
        """(logits of every node, the last hidden layer's node embeddings or None)."""
        h, hidden = x_NxF, None
        for i, layer in enumerate(self.layers):
            if i == 0 and self.identity_features:
                h = layer.kernel[...] + layer.bias[...][None, :]  # I W + b
            else:
                h = layer(self.dropout(h, deterministic=not train, rngs=rngs))
            # Transform first, then propagate: Â (H W) == (Â H) W, with the narrower width on the edges.
            h = propagate_fn(h)
            if i < len(self.layers) - 1:
                h = hidden = self.act(h)
        return h, hidden


class GraphModel(NamedTuple):
    """A GCN bound to one graph; `model` is its PureModel over node indices."""

    model: PureModel
    forward: object  # (params, *, key=None, train=False) -> (logits_NxK, hidden_NxH or None)


def make(num_nodes: int, edges: Edges, num_classes: int, features_NxF: np.ndarray | None = None,
         hidden: Sequence[int] = (16,), *, activation: str = "relu", dropout: float = 0.0,
         dropout_impl: str = "nnx", propagation: str = "segment_sum") -> GraphModel:
    """A GCN over this graph (edges as given, normalised here), `hidden` widths then `num_classes`.

    propagation: "segment_sum" (edge list) or "dense" (the N x N reference).
    """
    norm = normalize(edges, num_nodes)
    if propagation == "segment_sum":
        propagate_fn = lambda h: propagate(h, norm)  # noqa: E731
    elif propagation == "dense":
        adj_NxN = dense_adjacency(norm, num_nodes)
        propagate_fn = lambda h: adj_NxN @ h  # noqa: E731
    else:
        raise ValueError(f"unknown propagation {propagation!r}; valid: segment_sum, dense")
    x = None if features_NxF is None else jnp.asarray(features_NxF, jnp.float32)
    hparams = dict(num_nodes=num_nodes, num_features=0 if x is None else x.shape[1],
                   sizes=(*hidden, num_classes), activation=activation, dropout=dropout,
                   dropout_impl=dropout_impl)

    bind = binder(GCN, **hparams)

    def init(key):
        return nnx.to_pure_dict(nnx.split(GCN(**hparams, rngs=nnx.Rngs(params=key)), nnx.Param)[1])

    def forward(params, *, key=None, train=False):
        if train and key is None and dropout > 0:
            raise ValueError("gcn: forward(train=True) with dropout needs a `key`")
        return bind(params)(x, propagate_fn, train=train, rngs=None if key is None else nnx.Rngs(dropout=key))

    def apply(params, nodes_B, *, key=None, train=False):
        if nodes_B.ndim != 1:
            raise ValueError(f"gcn expects a vector of node indices; got shape {tuple(nodes_B.shape)}")
        return forward(params, key=key, train=train)[0][nodes_B]

    hp = {k: v for k, v in hparams.items() if k != "num_nodes"} | {"propagation": propagation}
    return GraphModel(PureModel("gcn", hp, (), init, apply), forward)
