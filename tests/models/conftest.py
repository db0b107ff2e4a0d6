"""Fixtures for the model tests."""

import jax
import pytest

from jaxdl.models import attention


@pytest.fixture
def library_attention(monkeypatch):
    """impl="fast" calls `jax.nn.dot_product_attention` (its XLA path here), as it does on a GPU,
    instead of the einsums it runs on CPU: so the fast path is tested against the scratch one.
    The test fails if the library function was never called."""
    jax.clear_caches()  # programs traced with the einsum path must not be reused
    library, calls = jax.nn.dot_product_attention, []

    def counted(*args, **kwargs):
        calls.append(kwargs.get("implementation"))
        return library(*args, **kwargs)

    monkeypatch.setattr(attention, "fast_is_library", lambda: True)
    monkeypatch.setattr(jax.nn, "dot_product_attention", counted)
    yield
    jax.clear_caches()
    assert calls, "impl='fast' never reached jax.nn.dot_product_attention"
