"""`x @ w` over the last axis of x, any leading axes, computed as one 2-D matmul.

Why: on a (B, T, D) operand the weight gradient autodiff writes contracts two axes,
`transpose(dot(dy, x))` over (B, T), and XLA:CPU lowers that to a transposed copy of dy and
a matmul kernel that ran at 60-75 GFLOP/s on one core where the 2-D product runs at ~100.
On x flattened to (B*T, D) the gradient is one plain (D, N) x (N, F) product (the GPT
benchmark's train step: 1.10-1.18x faster on one core). The forward product is the same;
only the gradient's sums are ordered differently (float32 rounding).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def matmul_last(x: jax.Array, w_DxF: jax.Array, *, preferred_element_type=None) -> jax.Array:
    """x (..., D) @ w (D, F) -> (..., F), as a (N, D) x (D, F) product with N the leading axes' size."""
    y_NxF = jnp.matmul(x.reshape(-1, x.shape[-1]), w_DxF, preferred_element_type=preferred_element_type)
    return y_NxF.reshape(*x.shape[:-1], w_DxF.shape[-1])
