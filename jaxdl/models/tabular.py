"""Tabular regression: entity embeddings of the categorical columns beside the numeric ones, into an MLP.

Input: {"categorical": int codes (B, C), "numeric": standardised floats (B, F)};
output: (B,) predictions, offset so that the untrained network predicts `center`
(e.g. the mean training target) rather than 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxdl.data.spec import DatasetSpec
from jaxdl.models import mlp
from jaxdl.models.embedding import EntityEmbeddings
from jaxdl.models.pure import PureModel, pure_model


class TabularMLP(nnx.Module):
    def __init__(self, cardinalities: Sequence[int], num_numeric: int, *, embed_dims: Sequence[int] = (),
                 hidden: Sequence[int] = (200, 100), activation: str = "relu", dropout: float = 0.0,
                 embed_init_scale: float = 0.01, center: float = 0.0, rngs: nnx.Rngs):
        self.embeddings = EntityEmbeddings(cardinalities, embed_dims, init_scale=embed_init_scale, rngs=rngs)
        self.mlp = mlp.MLP((self.embeddings.out_features + num_numeric, *hidden, 1), activation=activation,
                           dropout=dropout, rngs=rngs)
        self.center = float(center)  # a constant, not a parameter: the last layer's bias learns the rest

    def __call__(self, x: dict[str, jax.Array], *, train: bool = False,
                 rngs: nnx.Rngs | None = None) -> jax.Array:
        h_BxH = jnp.concatenate([self.embeddings(x["categorical"]), x["numeric"]], axis=-1)
        return self.mlp(h_BxH, train=train, rngs=rngs)[:, 0] + self.center


def make(cardinalities: Sequence[int], num_numeric: int, **hparams) -> PureModel:
    return pure_model("tabular_mlp", TabularMLP,
                      {"categorical": (len(cardinalities),), "numeric": (num_numeric,)},
                      cardinalities=tuple(cardinalities), num_numeric=num_numeric, **hparams)


def for_dataset(spec: DatasetSpec, *, center: float | None = None, **hparams) -> PureModel:
    """tabular_mlp sized by a tabular dataset: the regression task's factory (jaxdl.models.registry)."""
    if "cardinalities" not in spec.meta:
        raise ValueError(f"model 'tabular_mlp' needs a tabular dataset; {spec.name!r} is not one")
    return make(spec.meta["cardinalities"], len(spec.meta["numeric"]), center=center or 0.0, **hparams)
