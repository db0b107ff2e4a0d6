"""jaxdl: classic deep-learning explorations as clean, fast, tested JAX."""

__version__ = "0.1.0"
