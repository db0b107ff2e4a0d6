"""String-to-string datasets for seq2seq models: human-written dates -> ISO dates, and a reversal toy.

`dates`: random days from 1950-01-01 to 2049-12-31 (faker), each written by
babel in one of 8 locales and one of its 7-9 distinct patterns, e.g.

    "Sunday, September 3, 2023"  "3 de set. de 2023"  "03.09.23"  "9/3/23"  ->  "2023-09-03"

Learnable to 100% because every written form names exactly one day:
- the 100-year range makes a two-digit year unique (50..99 -> 19yy, 00..49 -> 20yy);
- numeric forms follow one rule across locales: slashes with a two-digit year are
  month-first (en_US "M/d/yy"), slashes with a four-digit year are day-first
  ("dd/MM/y", and "d/M/y" for es_ES); dots (de_DE) and dashes (nl_NL) are day-first.
  So es_ES and it_IT, whose babel short formats are "d/M/yy" and "dd/MM/yy", use
  their four-digit-year forms instead (`SHORT_OVERRIDES`);
- no month name or abbreviation means different months in two locales.
`tests/data/test_dates.py` checks the last two by formatting every day of 1999-2000 in
every (locale, pattern) and finding each string names one day only.
Non-breaking spaces (babel puts U+202F/U+00A0 in some forms) become plain spaces.

Records hold the strings (`source`, `target`, and the `locale` and `pattern` that
wrote it); `decode` turns them into fixed-length int32 ids with the character
vocabularies in `meta`, so another model (e.g. a transformer) reads the same
data. Ids: 0 pad, 1 unknown, 2 begin, 3 end, then the characters. Sources are
the characters, right-padded; targets are <bos> characters <eos>, right-padded.
Splits are generated with fixed seeds, test first, and no source string of an
earlier split appears in a later one, so the test set never depends on the
training-set size.

`reverse`: strings of 2-8 letters from a-j and their reversal (the tests' toy task).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import pathlib
from collections.abc import Sequence

import numpy as np

from jaxdl.data.spec import DatasetSpec
from jaxdl.data.text import BOS, EOS, PAD, SPECIAL_TOKENS, Vocab, char_tokenize, pad_or_truncate

LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL")
# babel's named formats (resolved per locale) and patterns applied in every locale.
FORMATS = ("full", "long", "medium", "short")
CUSTOM_PATTERNS = ("d MMM y", "dd MMMM y", "EEE d MMM y", "MMMM d, y", "d MMM yy")
SHORT_OVERRIDES = {"es_ES": "d/M/y", "it_IT": "dd/MM/y"}  # see the module docstring
FIRST_DAY, LAST_DAY = "1950-01-01", "2049-12-31"
# Every character the patterns above write in these locales (checked by the tests).
DATE_CHARS = (
    " ,-./0123456789ADFJMNOSTWabcdefghijklmnopqrstuvwxyzáäçéìû"
)
ISO_CHARS = "-0123456789"
DATES_SOURCE_LEN = 40  # the longest form is 38 characters
DATES_TARGET_LEN = 12  # <bos> YYYY-MM-DD <eos>
DATES_SIZES = {"train": 50_000, "validation": 2_000, "test": 2_000}
DATES_SEEDS = {"test": 0, "validation": 1, "train": 2}  # generated in this order

REVERSE_CHARS = "abcdefghij"
REVERSE_LENGTHS = (2, 8)  # inclusive
REVERSE_SIZES = {"train": 4_000, "validation": 500, "test": 500}
REVERSE_SEEDS = {"test": 10, "validation": 11, "train": 12}


@dataclasses.dataclass(frozen=True)
class CharCodec:
    """Strings <-> fixed-length, right-padded ids under a character `Vocab` (ids 0-3 reserved)."""

    chars: str
    length: int
    framed: bool  # <bos> ... <eos> around the characters (targets)

    @functools.cached_property
    def vocab(self) -> Vocab:
        return Vocab(SPECIAL_TOKENS + tuple(self.chars))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Strings -> int32 (N, length), unknown characters as UNK; raises if one does not fit."""
        rows = []
        for text in texts:
            ids = self.vocab.encode(char_tokenize(text))
            if self.framed:
                ids = np.concatenate([[BOS], ids, [EOS]])
            if len(ids) > self.length:
                raise ValueError(f"{text!r} needs {len(ids)} ids; this codec holds {self.length}")
            rows.append(ids)
        return pad_or_truncate(rows, self.length)

    def decode(self, ids: Sequence[int]) -> str:
        """Ids -> string, stopping at the first <eos> (or <pad>), skipping <bos>."""
        ids = np.asarray(ids).tolist()
        ends = [i for i, t in enumerate(ids) if t in (EOS, PAD)]
        kept = [t for t in ids[: ends[0] if ends else len(ids)] if t != BOS]
        return "".join(self.vocab.decode(kept))


DATES_SOURCE = CharCodec(DATE_CHARS, DATES_SOURCE_LEN, framed=False)
DATES_TARGET = CharCodec(ISO_CHARS, DATES_TARGET_LEN, framed=True)
REVERSE_SOURCE = CharCodec(REVERSE_CHARS, REVERSE_LENGTHS[1], framed=False)
REVERSE_TARGET = CharCodec(REVERSE_CHARS, REVERSE_LENGTHS[1] + 2, framed=True)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def pair_decoder(source: CharCodec, target: CharCodec):
    """Records {"source", "target", ...} -> {"source": (N, S), "target": (N, T)} int32 ids."""

    def decode(records: Sequence[dict]) -> dict[str, np.ndarray]:
        return {
            "source": source.encode([_text(r["source"]) for r in records]),
            "target": target.encode([_text(r["target"]) for r in records]),
        }

    return decode


def _locate_dates() -> pathlib.Path:
    missing = [m for m in ("faker", "babel") if importlib.util.find_spec(m) is None]
    if missing:
        raise DATES.missing(f"the python packages {', '.join(missing)}")
    spec = importlib.util.find_spec("babel")
    return pathlib.Path(next(iter(spec.submodule_search_locations)))


def _locate_numpy() -> pathlib.Path:
    return pathlib.Path(np.__file__).parent  # the reversal toy needs nothing else


def _meta(source: CharCodec, target: CharCodec) -> dict:
    return {"source": source, "target": target}


_SPLITS = {"train": "train", "validation": "validation", "test": "test"}

DATES = DatasetSpec(
    name="dates",
    tfds_name="jaxdl_dates",
    description=(
        "human-written dates (8 locales x 7-9 babel patterns, 1950-2049) -> ISO YYYY-MM-DD; "
        "50,000 / 2,000 / 2,000 generated offline with faker + babel"
    ),
    splits=_SPLITS,
    offline=True,
    how_to_get="pip install faker babel",
    locate=_locate_dates,
    builder="jaxdl.data.builders.dates",
    decode=pair_decoder(DATES_SOURCE, DATES_TARGET),
    meta=_meta(DATES_SOURCE, DATES_TARGET),
)
REVERSE = DatasetSpec(
    name="reverse",
    tfds_name="jaxdl_reverse",
    description="strings of 2-8 letters a-j -> the same string reversed; 4,000 / 500 / 500 (toy task)",
    splits=_SPLITS,
    offline=True,
    how_to_get="pip install numpy",
    locate=_locate_numpy,
    builder="jaxdl.data.builders.dates",
    decode=pair_decoder(REVERSE_SOURCE, REVERSE_TARGET),
    meta=_meta(REVERSE_SOURCE, REVERSE_TARGET),
)
SPECS = (DATES, REVERSE)
