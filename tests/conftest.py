"""Test-wide JAX setup: runs before any test module imports jax."""
import os

# Fake CPU devices must be requested before JAX initialises its backend.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
# Recompiling the same programs dominates the suite's time; cache them on disk.
jax.config.update(
    "jax_compilation_cache_dir",
    os.environ.get("JAXDL_TEST_CACHE", os.path.expanduser("~/.cache/jaxdl/jax-test-cache")),
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A TFDS data dir private to this test session (jaxdl builders prepare into it)."""
    return str(tmp_path_factory.mktemp("tfds"))


@pytest.fixture(params=[True, False], ids=["with_jit", "without_jit"])
def variant(request):
    """`variant(fn)` is `jax.jit(fn)` or `fn` itself: a test taking it runs both ways (as chex.variants)."""
    return jax.jit if request.param else (lambda fn: fn)
