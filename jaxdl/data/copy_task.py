"""The copy task (Annotated Transformer): the target is the source. Synthetic, generated from seeds."""
from __future__ import annotations

import pathlib
from collections.abc import Sequence

import numpy as np

from jaxdl.data.spec import DatasetSpec
from jaxdl.data.text import BOS, EOS, PAD, SPECIAL_TOKENS

FIRST = len(SPECIAL_TOKENS)  # ids 0-3 are reserved as in every jaxdl vocabulary
NUM_SYMBOLS = 10  # ids 4..13
MAX_LEN = 10  # source lengths are uniform in 1..MAX_LEN
SIZES = {"train": 20000, "validation": 1000, "test": 1000}


def make_examples(num: int, seed: int) -> dict[str, np.ndarray]:
    """`num` pairs: source (num, MAX_LEN) and target = BOS + source + EOS (num, MAX_LEN + 2), 0-padded."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, MAX_LEN + 1, size=num)
    symbols = rng.integers(FIRST, FIRST + NUM_SYMBOLS, size=(num, MAX_LEN))
    source = np.where(np.arange(MAX_LEN)[None, :] < lengths[:, None], symbols, PAD).astype(np.uint8)
    target = np.zeros((num, MAX_LEN + 2), np.uint8)
    target[:, 0] = BOS
    target[:, 1:-1] = source
    target[np.arange(num), lengths + 1] = EOS
    return {"source": source, "target": target}


def decode(records: Sequence[dict]) -> dict[str, np.ndarray]:
    return {k: np.stack([r[k] for r in records]).astype(np.int32) for k in ("source", "target")}


def _locate() -> pathlib.Path:
    return pathlib.Path(__file__)  # generated from seeds: the only "source" is this module


SPECS = (
    DatasetSpec(
        name="copy_task",
        tfds_name="copy_task",
        description="copy a random string of 1-10 symbols (10-symbol alphabet); synthetic, offline",
        splits={"train": "train", "validation": "validation", "test": "test"},
        offline=True,
        how_to_get="nothing to get: generated from fixed seeds",
        locate=_locate,
        builder="jaxdl.data.builders.copy_task",
        decode=decode,
        meta={"src_vocab": FIRST + NUM_SYMBOLS, "tgt_vocab": FIRST + NUM_SYMBOLS,
              "max_src_len": MAX_LEN, "max_tgt_len": MAX_LEN + 2},
    ),
)
