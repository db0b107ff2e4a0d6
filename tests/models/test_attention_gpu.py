"""On a GPU: cuDNN's fused attention equals the XLA path, values and gradients (bf16 and fp16
inputs: cuDNN's flash attention takes only half precision).

Marked `gpu`: skipped, with the reason, on other backends (conftest.py); scripts/gpu_check.sh runs
these with JAX_PLATFORMS=cuda. cuDNN needs sequence lengths and head sizes it supports (head size
a multiple of 8, at most 128), hence the shapes below.
"""

import chex
import jax
import jax.numpy as jnp
import pytest

from jaxdl.models import attention as attn

pytestmark = pytest.mark.gpu

B, T, N, H = 2, 128, 4, 64


def _qkv(dtype):
    keys = jax.random.split(jax.random.key(0), 3)
    return [jax.random.normal(k, (B, T, N, H), jnp.float32).astype(dtype) for k in keys]


def _loss(implementation, is_causal):
    def loss(q, k, v):
        out = jax.nn.dot_product_attention(q, k, v, is_causal=is_causal, implementation=implementation)
        return jnp.sum(out.astype(jnp.float32) ** 2), out

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True))


@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_cudnn_attention_equals_the_xla_path(dtype, is_causal):
    q, k, v = _qkv(dtype)
    (_, out_cudnn), grads_cudnn = _loss("cudnn", is_causal)(q, k, v)
    (_, out_xla), grads_xla = _loss("xla", is_causal)(q, k, v)
    # Half-precision inputs: the two paths accumulate in different orders.
    as_f32 = lambda tree: jax.tree.map(lambda a: a.astype(jnp.float32), tree)
    chex.assert_trees_all_close(as_f32(out_cudnn), as_f32(out_xla), atol=2e-2, rtol=2e-2)
    chex.assert_trees_all_close(as_f32(grads_cudnn), as_f32(grads_xla), atol=5e-2, rtol=5e-2)


def test_fast_attention_is_the_library_on_a_gpu_and_equals_scratch():
    assert attn.fast_is_library()
    q, k, v = _qkv(jnp.float32)
    fast = attn.attend(q, k, v, is_causal=True, impl="fast")
    scratch = attn.attend(q, k, v, is_causal=True, impl="scratch")
    # float32 matmuls may run as TF32 on the GPU, in a different order on each path.
    chex.assert_trees_all_close(fast, scratch, atol=5e-3, rtol=5e-3)
