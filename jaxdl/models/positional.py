"""Position information for transformers: sinusoidal tables and rotary embeddings."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def sinusoidal(num_positions: int, d_model: int, base: float = 10000.0) -> jax.Array:
    """Vaswani et al.'s (T, D) table: sin on even features, cos on odd, wavelengths up to 2*pi*base."""
    if d_model % 2:
        raise ValueError(f"sinusoidal positions need an even width, got {d_model}")
    pos_Tx1 = jnp.arange(num_positions, dtype=jnp.float32)[:, None]
    inv_freq_1xF = base ** (-jnp.arange(0, d_model, 2, dtype=jnp.float32) / d_model)[None, :]
    angles_TxF = pos_Tx1 * inv_freq_1xF
    return jnp.stack([jnp.sin(angles_TxF), jnp.cos(angles_TxF)], axis=-1).reshape(num_positions, d_model)


def rotary(x_BxTxNxH: jax.Array, positions_T: jax.Array, base: float = 10000.0) -> jax.Array:
    """Rotary position embedding (Su et al., RoFormer), GPT-NeoX's half-split layout.

    Feature pairs (i, i + H/2) are rotated by angle `position * base**(-2i/H)`, so
    the dot product of a rotated query and key depends only on their offset.
    """
    h = x_BxTxNxH.shape[-1]
    if h % 2:
        raise ValueError(f"rotary embeddings need an even head size, got {h}")
    half = h // 2
    inv_freq_F = base ** (-jnp.arange(half, dtype=jnp.float32) / half)
    angles_TxF = positions_T.astype(jnp.float32)[:, None] * inv_freq_F[None, :]
    cos = jnp.cos(angles_TxF)[None, :, None, :]
    sin = jnp.sin(angles_TxF)[None, :, None, :]
    x = x_BxTxNxH.astype(jnp.float32)
    x1, x2 = x[..., :half], x[..., half:]
    out = jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)
    return out.astype(x_BxTxNxH.dtype)
