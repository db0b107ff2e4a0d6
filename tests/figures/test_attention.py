"""Attention maps: a PNG of the weights with their row and column labels."""

import numpy as np
import pytest


def test_attention_map_writes_a_png(tmp_path):
    from jaxdl import figures

    w = np.full((2, 3), 1 / 3)
    path = figures.attention_map(w, ["a", "b"], ["x", "y", "\n"], "t", str(tmp_path / "a.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="need 2 row and 2 column labels"):
        figures.attention_map(w, ["a", "b"], ["x", "y"], "t", str(tmp_path / "b.png"))
