"""Flax NNX modules seen from outside as a pure `init`/`apply` pair.

`init(key) -> params` returns a plain nested dict of arrays (a pytree), so
`jax.vmap(init)(keys)` builds a stack of independent networks and optax,
chex and checkpointing see ordinary pytrees. `apply(params, x, *, key=None,
train=False)` rebuilds the module with `nnx.merge` from a graph definition
captured once, at construction, from an abstract (shape-only) module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
from flax import nnx

Params = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class PureModel:
    """A model as two pure functions; `name` and `hparams` say what it is."""

    name: str
    hparams: dict[str, Any]
    # Per-example shape, without the batch axis; a dict of them for models taking a dict of inputs.
    input_shape: tuple[int, ...] | dict[str, tuple[int, ...]]
    init: Callable[[jax.Array], Params]
    apply: Callable[..., jax.Array]


def pure_model(
    name: str, module_cls: type[nnx.Module], input_shape: tuple[int, ...] | dict[str, tuple[int, ...]],
    **hparams: Any,
) -> PureModel:
    """Wraps `module_cls(**hparams, rngs=...)`, whose `__call__(x, *, train, rngs)`."""

    def build(key: jax.Array) -> nnx.Module:
        return module_cls(**hparams, rngs=nnx.Rngs(params=key))

    bind = binder(module_cls, **hparams)

    def init(key: jax.Array) -> Params:
        _, params, rest = nnx.split(build(key), nnx.Param, ...)
        if jax.tree.leaves(rest):
            raise TypeError(f"{name}: only nnx.Param state is supported, found {rest}")
        return nnx.to_pure_dict(params)

    def apply(
        params: Params, x: jax.Array, *, key: jax.Array | None = None, train: bool = False
    ) -> jax.Array:
        _check_shapes(name, x, input_shape)
        if train and key is None and _uses_dropout(hparams):
            raise ValueError(f"{name}: apply(train=True) with dropout needs a `key`")
        module = bind(params)
        rngs = nnx.Rngs(dropout=key) if key is not None else None
        return module(x, train=train, rngs=rngs)

    if isinstance(input_shape, dict):
        input_shape = {k: tuple(v) for k, v in input_shape.items()}
    else:
        input_shape = tuple(input_shape)
    return PureModel(name, dict(hparams), input_shape, init, apply)


def _check_shapes(name: str, x: Any, input_shape) -> None:
    if isinstance(input_shape, dict):
        if not isinstance(x, dict) or set(x) != set(input_shape):
            raise ValueError(f"{name} expects a dict of inputs {sorted(input_shape)}; got "
                             f"{sorted(x) if isinstance(x, dict) else type(x).__name__}")
        for k, shape in input_shape.items():
            _check_shapes(f"{name}[{k!r}]", x[k], shape)
    elif tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(
            f"{name} expects inputs of shape (batch, {', '.join(map(str, input_shape))}); "
            f"got {tuple(x.shape)}"
        )


def binder(module_cls: type[nnx.Module], **hparams: Any) -> Callable[[Params], nnx.Module]:
    """`bind(params)` -> the module `module_cls(**hparams)` holding `params`.

    For calling a module's other methods from pure code (a VAE's `encode`/`decode`).
    """
    # The graph definition is static: take it once from an abstract module.
    graphdef, abstract_params = nnx.split(
        nnx.eval_shape(lambda: module_cls(**hparams, rngs=nnx.Rngs(params=jax.random.key(0)))), nnx.Param
    )

    def bind(params: Params) -> nnx.Module:
        state = jax.tree.map(lambda a: a, abstract_params)
        nnx.replace_by_pure_dict(state, params)
        return nnx.merge(graphdef, state)

    return bind


def _uses_dropout(hparams: dict[str, Any]) -> bool:
    return float(hparams.get("dropout", 0.0)) > 0.0
