"""The mixed-precision policy of the shared train step (`train.precision`).

`bfloat16` runs the forward and backward pass in bf16: the step casts the float32 master
params and the batch's floating-point arrays to bf16 inside the differentiated loss, so the
gradients arrive in float32 (the cast's transpose) and the optimiser state and its update stay
float32. Integer arrays (labels, token ids) are never cast. Tasks compute their losses from the
model's outputs upcast to float32, attention softmaxes and LayerNorm statistics run in float32,
and the shared dense layers accumulate their matmuls in float32 (`preferred_element_type`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

POLICIES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def check(name: str) -> None:
    if name not in POLICIES:
        raise ValueError(f"unknown train.precision {name!r}; valid: {', '.join(POLICIES)}")


def cast_floats(tree, dtype):
    """`tree` with every floating-point leaf cast to `dtype`; integer and bool leaves unchanged."""
    return jax.tree.map(lambda a: a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree)


def compute_loss(loss_fn, name: str):
    """`loss_fn(params, batch, *, key, train)` run under policy `name`: the identity for float32;
    for bfloat16, params and float inputs cast to bf16, loss and metrics returned as float32."""
    check(name)
    if name == "float32":
        return loss_fn
    dtype = POLICIES[name]

    def loss(params, batch, *, key, train):
        value, metrics = loss_fn(cast_floats(params, dtype), cast_floats(batch, dtype), key=key, train=train)
        return value.astype(jnp.float32), cast_floats(metrics, jnp.float32)

    return loss
