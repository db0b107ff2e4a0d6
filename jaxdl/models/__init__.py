"""Models as pure `init`/`apply` pairs; one module per family, all registered in `MODELS`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jaxdl.models.pure import Params, PureModel
from jaxdl.models.registry import MODELS, model_factory, model_names, register_model


def make(name: str, input_shape: Sequence[int], num_classes: int, **hparams: Any) -> PureModel:
    """The image classifier `name` for inputs of `input_shape` (no batch axis)."""
    return model_factory("classification", name)(input_shape, num_classes, **hparams)


__all__ = ["MODELS", "Params", "PureModel", "make", "model_factory", "model_names", "register_model"]
