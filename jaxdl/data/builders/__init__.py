"""TFDS builders for datasets shipped in installed packages (no network).

Importing this module imports tensorflow_datasets and registers the builders
under their TFDS names, so only import it where tfds is needed anyway.
"""
from jaxdl.data.builders.fashion_mnist_debian import FashionMnistDebian
from jaxdl.data.builders.mnist5k import Mnist5k

__all__ = ["FashionMnistDebian", "Mnist5k"]
