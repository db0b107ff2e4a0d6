"""Models as pure `init`/`apply` pairs; one module per family."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jaxdl.models import cnn, mlp
from jaxdl.models.pure import Params, PureModel

_FAMILIES = {"mlp": mlp.make, "cnn": cnn.make}
MODELS = tuple(_FAMILIES)


def make(name: str, input_shape: Sequence[int], num_classes: int, **hparams: Any) -> PureModel:
    """The model family `name` for inputs of `input_shape` (no batch axis)."""
    if name not in _FAMILIES:
        raise ValueError(f"unknown model '{name}'; valid models: {', '.join(MODELS)}")
    return _FAMILIES[name](input_shape, num_classes, **hparams)


__all__ = ["MODELS", "Params", "PureModel", "cnn", "make", "mlp"]
