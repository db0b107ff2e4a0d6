"""Pretrained GloVe vectors: read from the npm tarball's JSON, cached, looked up by vocabulary,
and used to start (or fix) a text model's embeddings."""

import chex
import numpy as np
import pytest

from jaxdl.data import glove
from jaxdl.data.spec import DatasetNotAvailableError
from tests.helpers import GLOVE_WORDS, glove_vector, write_glove_tarball


def test_the_tarball_is_read_converted_once_and_looked_up_by_vocabulary(tmp_path):
    path = tmp_path / glove.TARBALL_NAME
    assert not glove.available(path)
    write_glove_tarball(path)
    words, vectors = glove.load(path)
    assert words == list(GLOVE_WORDS)
    chex.assert_shape(vectors, (len(GLOVE_WORDS), glove.DIM))
    np.testing.assert_array_equal(vectors[1], np.float32(glove_vector(1)))
    path.unlink()  # later loads read the converted cache only
    assert glove.available(path)
    table, found = glove.lookup(["<pad>", "bad", "unseen", "the"], path)
    np.testing.assert_array_equal(found, [False, True, False, True])
    np.testing.assert_array_equal(table[1], np.float32(glove_vector(2)))
    np.testing.assert_array_equal(table[3], np.float32(glove_vector(0)))
    assert not table[[0, 2]].any()


def test_missing_vectors_name_the_file_and_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv(glove.TARBALL_ENV, str(tmp_path / "absent.tgz"))
    with pytest.raises(DatasetNotAvailableError, match=r"absent\.tgz.*make glove"):
        glove.load()
