"""The tabular MLP: entity embeddings, one table per categorical column."""

import chex
import jax
import jax.numpy as jnp
import pytest

from jaxdl.models import tabular


def test_entity_embeddings_concatenate_per_column_tables():
    model = tabular.make((5, 7, 8), 6, hidden=(16,))
    params = model.init(jax.random.key(0))
    assert [t["table"].shape for t in params["embeddings"]["columns"].values()] == [(5, 3), (7, 4), (8, 4)]
    x = {"categorical": jnp.array([[0, 6, 7], [4, 0, 0]]), "numeric": jnp.zeros((2, 6))}
    chex.assert_shape(model.apply(params, x), (2,))
    with pytest.raises(ValueError, match="dict of inputs"):
        model.apply(params, x["numeric"])
