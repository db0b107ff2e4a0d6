"""Your own model as a jaxdl model: a Flax NNX module class, a `PureModel`, or bare functions.

`as_factory(model)` gives what the registry holds for a classification-style task, a factory
`(input_shape, num_classes, **hparams) -> PureModel`:
- an NNX module class is built as `cls(**hparams, rngs=nnx.Rngs(params=key))`, with
  `num_classes` passed too when its `__init__` names it; its
  `__call__(x, *, train=False, rngs=None)` gives the outputs (see `jaxdl.models.pure`);
- a `PureModel` is used as it is;
- `(init, apply)` functions, `init(key) -> params` and `apply(params, x, *, key=None, train=False)`,
  become a `PureModel` of the task's input shape.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

from flax import nnx

from jaxdl.models.pure import PureModel, pure_model

Factory = Callable[..., PureModel]


def display_name(model: Any) -> str:
    """A readable name for a user's model object (its class or function name)."""
    if isinstance(model, PureModel):
        return model.name
    if isinstance(model, tuple):
        return getattr(model[0], "__qualname__", "model").replace(".<locals>.", ".").split(".")[0]
    return getattr(model, "__qualname__", type(model).__name__).replace(".<locals>.", ".")


def origin(model: Any) -> str:
    """Where a user's model is defined, "module:name", for config.json."""
    target = model[0] if isinstance(model, tuple) else model
    if isinstance(target, PureModel):
        target = target.init
    module = getattr(target, "__module__", None) or "?"
    # A study file is imported under a generated module name: its path says more.
    where = getattr(sys.modules.get(module), "__file__", None) if module.startswith("jaxdl_study_") else None
    return f"{where or module}:{getattr(target, '__qualname__', type(target).__name__)}"


def from_nnx(module_cls: type[nnx.Module], name: str | None = None) -> Factory:
    """The factory of `module_cls`; hparams are its constructor's keyword arguments."""
    accepted = inspect.signature(module_cls.__init__).parameters
    if "rngs" not in accepted:
        raise ValueError(f"{module_cls.__qualname__}.__init__ must take `rngs` (nnx.Rngs) to create its "
                         f"params; its signature is {inspect.signature(module_cls.__init__)}")

    def make(input_shape, num_classes, **hparams) -> PureModel:
        if "num_classes" in accepted and "num_classes" not in hparams:
            hparams["num_classes"] = num_classes
        return pure_model(name or module_cls.__qualname__, module_cls, input_shape, **hparams)

    return make


def from_functions(init: Callable, apply: Callable, name: str = "model") -> Factory:
    """The factory of bare `init(key) -> params` and `apply(params, x, *, key=None, train=False)`."""
    if not callable(init) or not callable(apply):
        raise ValueError(f"a model as functions is (init, apply), both callable; got ({type(init).__name__}, "
                         f"{type(apply).__name__})")

    def make(input_shape, num_classes, **hparams) -> PureModel:
        del num_classes  # the functions fix their own output width
        return PureModel(name, dict(hparams), tuple(input_shape), init, apply)

    return make


def as_factory(model: Any, name: str | None = None) -> Factory:
    """The factory for any model a user may pass (see the module docstring).

    The factory carries the model's own module and name, so `register_model(task, name,
    as_factory(MyNet))` records MyNet's origin: another model under a taken name is a clash.
    """
    if isinstance(model, type) and issubclass(model, nnx.Module):
        factory = from_nnx(model, name)
    elif isinstance(model, PureModel):
        def factory(input_shape, num_classes, **hparams) -> PureModel:
            return model
    elif isinstance(model, tuple) and len(model) == 2:
        factory = from_functions(*model, name=name or display_name(model))
    else:
        raise ValueError(f"a model is an nnx.Module class, a PureModel or an (init, apply) pair of functions; "
                         f"got {type(model).__name__}")
    target = model[0] if isinstance(model, tuple) else model.init if isinstance(model, PureModel) else model
    factory.__module__ = getattr(target, "__module__", None) or factory.__module__
    factory.__qualname__ = getattr(target, "__qualname__", None) or factory.__qualname__
    return factory
