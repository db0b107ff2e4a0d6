"""Rematerialisation (`model.remat`): recompute a layer's activations in the backward pass
instead of keeping them, trading compute for memory (`jax.checkpoint`).

`model.remat` is a policy name: "none" (keep everything, the default), "full" (keep only
each layer's input; everything inside it is recomputed) or "dots_saveable" (keep the
matmul outputs, recompute the cheap elementwise ops between them). "true"/"false" are
"full"/"none". Gradients are the same with every policy; only peak memory and step time change.
"""

from __future__ import annotations

from collections.abc import Callable

import jax

POLICIES = {
    "none": None,
    "full": jax.checkpoint_policies.nothing_saveable,
    "dots_saveable": jax.checkpoint_policies.dots_saveable,
}
ALIASES = {"false": "none", "true": "full"}


def policy_name(remat: str | bool) -> str:
    """The canonical name of `remat` (a bool or a policy name); a ValueError names the valid ones."""
    name = str(remat).lower() if isinstance(remat, bool) else remat
    name = ALIASES.get(name, name)
    if name not in POLICIES:
        raise ValueError(f"unknown model.remat {remat!r}; valid: {', '.join([*POLICIES, *ALIASES])}")
    return name


def wrap(fn: Callable, remat: str | bool) -> Callable:
    """`fn` under `jax.checkpoint` with the named policy; `fn` itself for "none"."""
    name = policy_name(remat)
    if name == "none":
        return fn
    return jax.checkpoint(fn, policy=POLICIES[name])
