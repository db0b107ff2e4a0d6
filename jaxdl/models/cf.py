"""Collaborative filtering: predict user u's rating of item i from learned embeddings.

`DotBias` is matrix factorisation with biases (Funk SVD as fast.ai teaches it):

    r_ui = lo + (hi - lo) * sigmoid(p_u . q_i + b_u + b_i + c)

The scaled sigmoid keeps predictions inside `y_range` (a little wider than the
rating scale, e.g. 0..5.5, so the extremes are reachable without infinite
logits). With small initial embeddings and zero biases the prediction starts
at lo + (hi - lo) * sigmoid(c); `center` picks c so that this is the mean
training rating rather than the middle of the range. `global_offset` says what c
is: "learned" (trained with the rest), "fixed" (held at that start value) or
"none" (no c: r_ui = lo + (hi - lo) * sigmoid(p_u . q_i + b_u + b_i), as in
parrt/playdl's collaborative-filtering notebook, `movielens_playdl`). Embedding
entries start at N(embed_init_mean, embed_init_scale^2).

`SplitMLP` is the "split" deep model: the user's and the item's embeddings
are concatenated and fed to an MLP instead of being dotted.

Both take `x_Bx2` int ids [user, item] (dense indices) and return (B,) ratings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxdl.data.spec import DatasetSpec
from jaxdl.models import mlp
from jaxdl.models.embedding import Embed
from jaxdl.models.pure import PureModel, pure_model


def initial_offset(center: float | None, y_range: Sequence[float]) -> float:
    """The pre-squash constant that makes a zero score predict `center`."""
    if center is None:
        return 0.0
    if not y_range:
        return float(center)
    lo, hi = y_range
    if not lo < center < hi:
        raise ValueError(f"center {center} must lie strictly inside y_range ({lo}, {hi})")
    p = (center - lo) / (hi - lo)
    return math.log(p / (1.0 - p))


def squash(z_B: jax.Array, y_range: Sequence[float]) -> jax.Array:
    """lo + (hi - lo) * sigmoid(z): every prediction inside (lo, hi); identity without a range."""
    if not y_range:
        return z_B
    lo, hi = y_range
    return lo + (hi - lo) * jax.nn.sigmoid(z_B)


GLOBAL_OFFSETS = ("learned", "fixed", "none")


def _check_range(y_range: Sequence[float]) -> tuple[float, ...]:
    y_range = tuple(float(v) for v in y_range)
    if y_range and (len(y_range) != 2 or y_range[0] >= y_range[1]):
        raise ValueError(f"y_range must be () or (lo, hi) with lo < hi, got {y_range}")
    return y_range


class DotBias(nnx.Module):
    def __init__(self, num_users: int, num_items: int, *, factors: int = 50, biases: bool = True,
                 y_range: Sequence[float] = (0.0, 5.5), center: float | None = None,
                 embed_init_scale: float = 0.01, embed_init_mean: float = 0.0, global_offset: str = "learned",
                 impl: str = "lookup", rngs: nnx.Rngs):
        self.y_range = _check_range(y_range)
        if global_offset not in GLOBAL_OFFSETS:
            raise ValueError(f"unknown global_offset {global_offset!r}; valid: {', '.join(GLOBAL_OFFSETS)}")
        if global_offset == "none" and center is not None:
            raise ValueError("global_offset='none' has no offset to centre on the mean; set center_on_mean=false")
        embed = dict(init_scale=embed_init_scale, init_mean=embed_init_mean, impl=impl, rngs=rngs)
        self.user = Embed(num_users, factors, **embed)
        self.item = Embed(num_items, factors, **embed)
        self.biases = biases
        if biases:
            self.user_bias = nnx.Param(jnp.zeros((num_users,)))
            self.item_bias = nnx.Param(jnp.zeros((num_items,)))
        offset = initial_offset(center, self.y_range)
        # A fixed offset is a plain float, so it is no parameter and nothing trains it.
        self.offset = nnx.Param(jnp.asarray(offset)) if global_offset == "learned" else offset

    def __call__(self, x_Bx2: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None) -> jax.Array:
        del train, rngs  # deterministic
        users_B, items_B = x_Bx2[:, 0], x_Bx2[:, 1]
        offset = self.offset[...] if isinstance(self.offset, nnx.Param) else self.offset
        z_B = jnp.sum(self.user(users_B) * self.item(items_B), axis=-1) + offset
        if self.biases:
            z_B = z_B + self.user_bias[...][users_B] + self.item_bias[...][items_B]
        return squash(z_B, self.y_range)


class SplitMLP(nnx.Module):
    def __init__(self, num_users: int, num_items: int, *, user_factors: int = 50, item_factors: int = 50,
                 hidden: Sequence[int] = (100,), activation: str = "relu", dropout: float = 0.0,
                 y_range: Sequence[float] = (0.0, 5.5), center: float | None = None,
                 embed_init_scale: float = 0.01, impl: str = "lookup", rngs: nnx.Rngs):
        self.y_range = _check_range(y_range)
        self.user = Embed(num_users, user_factors, init_scale=embed_init_scale, impl=impl, rngs=rngs)
        self.item = Embed(num_items, item_factors, init_scale=embed_init_scale, impl=impl, rngs=rngs)
        self.mlp = mlp.MLP((user_factors + item_factors, *hidden, 1), activation=activation,
                           dropout=dropout, rngs=rngs)
        self.offset = nnx.Param(jnp.asarray(initial_offset(center, self.y_range)))

    def __call__(self, x_Bx2: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None) -> jax.Array:
        h_BxF = jnp.concatenate([self.user(x_Bx2[:, 0]), self.item(x_Bx2[:, 1])], axis=-1)
        z_B = self.mlp(h_BxF, train=train, rngs=rngs)[:, 0] + self.offset[...]
        return squash(z_B, self.y_range)


def used_rows_sq_norm(params, x_Bx2: jax.Array) -> jax.Array:
    """(B,) |p_u|^2 + |q_i|^2 (+ b_u^2 + b_i^2) of the rows each rating uses.

    Its batch mean times lambda is Funk's and Koren's regulariser: a user or item is
    penalised once per rating it appears in, unlike an L2 penalty on whole tables.
    """
    users_B, items_B = x_Bx2[:, 0], x_Bx2[:, 1]
    sq_B = (jnp.sum(params["user"]["table"][users_B] ** 2, axis=-1)
            + jnp.sum(params["item"]["table"][items_B] ** 2, axis=-1))
    if "user_bias" in params:
        sq_B = sq_B + params["user_bias"][users_B] ** 2 + params["item_bias"][items_B] ** 2
    return sq_B


def make_dot(num_users: int, num_items: int, **hparams) -> PureModel:
    return pure_model("cf_dot", DotBias, (2,), num_users=num_users, num_items=num_items, **hparams)


def make_split(num_users: int, num_items: int, **hparams) -> PureModel:
    return pure_model("cf_split", SplitMLP, (2,), num_users=num_users, num_items=num_items, **hparams)


def _ratings_sizes(name: str, spec: DatasetSpec) -> tuple[int, int]:
    if "num_users" not in spec.meta:
        raise ValueError(f"model {name!r} needs a ratings dataset (num_users/num_items); {spec.name!r} is not one")
    return spec.meta["num_users"], spec.meta["num_items"]


def dot_for_dataset(spec: DatasetSpec, **hparams) -> PureModel:
    """cf_dot sized by a ratings dataset: the regression task's factory (jaxdl.models.registry)."""
    return make_dot(*_ratings_sizes("cf_dot", spec), **hparams)


def split_for_dataset(spec: DatasetSpec, **hparams) -> PureModel:
    """cf_split sized by a ratings dataset: the regression task's factory (jaxdl.models.registry)."""
    return make_split(*_ratings_sizes("cf_split", spec), **hparams)
