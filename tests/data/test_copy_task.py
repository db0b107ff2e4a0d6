"""The copy task dataset: examples are framed copies of their sources."""

import chex
import numpy as np

from jaxdl.data import copy_task, text


def test_copy_examples_are_framed_copies():
    ex = copy_task.make_examples(50, seed=0)
    chex.assert_shape(ex["source"], (50, copy_task.MAX_LEN))
    for src, tgt in zip(ex["source"], ex["target"]):
        n = int((src != text.PAD).sum())
        assert 1 <= n <= copy_task.MAX_LEN and tgt[0] == text.BOS and tgt[n + 1] == text.EOS
        np.testing.assert_array_equal(tgt[1:n + 1], src[:n])
        assert not tgt[n + 2:].any() and not src[n:].any()
