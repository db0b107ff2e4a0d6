"""TrainState: everything a step changes, as one pytree of arrays."""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp
import optax

from jaxdl.models import Params, PureModel


@flax.struct.dataclass
class TrainState:
    step: jax.Array  # int32 scalar: updates applied so far
    params: Params
    opt_state: optax.OptState
    rng: jax.Array  # dropout stream; step t uses fold_in(rng, t)


def create(model: PureModel, tx: optax.GradientTransformation, init_key, dropout_key) -> TrainState:
    """A fresh state; pure in its keys, so `jax.vmap(create, ...)` builds an ensemble."""
    params = model.init(init_key)
    return TrainState(
        step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params), rng=dropout_key
    )
