"""Figures of finished runs and sweeps, each written into the run's workdir; `FIGURES` names them.

`jaxdl plot --workdir RUN --figure NAME` calls `plot(NAME, RUN, ...)`. A figure is a function
`(workdir, **options) -> path or list of paths`; `register_figure` adds one (jaxdl's own entries
below use it too). Entries are lazy ("module:function"), so listing them imports no plotting code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from jaxdl.registry import Registry, call_with_accepted

FIGURES: Registry[Callable[..., Any]] = Registry("figure")
register_figure = FIGURES.register

for _name, _target in {
    "curves": "jaxdl.figures.curves:learning_curves",
    "weight_masks": "jaxdl.figures.nielsen:weight_masks",
    "latent3": "jaxdl.figures.nielsen:latent3_report",
    "attention": "jaxdl.figures.attention:attention",
    "node_embeddings": "jaxdl.figures.embeddings:node_embeddings",
    "word_pca": "jaxdl.figures.embeddings:plot_words",
    "vae_reconstructions": "jaxdl.figures.generative:vae_reconstructions",
    "vae_samples": "jaxdl.figures.generative:vae_samples",
    "vae_manifold": "jaxdl.figures.generative:vae_manifold",
    "vae_latents": "jaxdl.figures.generative:vae_latents",
    "made_samples": "jaxdl.figures.generative:made_samples",
}.items():
    register_figure(_name, _target)

# Names the package offers without importing its plotting modules up front.
_LAZY = {"learning_curves": "curves", "weight_masks": "nielsen", "latent3": "nielsen",
         "attention_map": "attention"}
_SUBMODULES = ("attention", "curves", "embeddings", "generative", "nielsen", "sweep")


def plot(name: str, workdir: str, **options: Any) -> list[str]:
    """Draws figure `name` of the run in `workdir`; returns the lines to report (paths, summaries).

    Options a figure does not take are ignored (one command line serves every figure).
    """
    import os

    figure = FIGURES.get_or_raise(name)
    if not os.path.exists(os.path.join(workdir, "metrics.jsonl")):
        raise ValueError(f"{workdir} holds no run (no metrics.jsonl)")
    out = call_with_accepted(figure, workdir, **options)
    return [out] if isinstance(out, str) else list(out)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"jaxdl.figures.{name}")
    if name in _LAZY:
        module = importlib.import_module(f"jaxdl.figures.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'jaxdl.figures' has no attribute {name!r}")


__all__ = ["FIGURES", "plot", "register_figure"]
