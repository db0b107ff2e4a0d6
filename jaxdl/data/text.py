"""Text preprocessing in plain Python/numpy: tokenisers, a vocabulary, padding, windows.

Ids 0-3 are reserved in every `Vocab` (PAD, UNK, BOS, EOS), so padding is id 0
and an unseen token encodes to UNK; corpus tokens get ids from 4 on, most frequent
first (ties broken by first appearance, so a vocabulary is a function of its corpus).
"""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Iterable, Sequence

import numpy as np

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIAL_TOKENS = ("<pad>", "<unk>", "<bos>", "<eos>")  # the tokens of ids 0..3

# A word is a run of letters/digits (with inner apostrophes: "don't", "o'er");
# every other non-space character is a token of its own (punctuation).
_WORD_RE = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def char_tokenize(text: str) -> list[str]:
    """Every character, whitespace and newlines included: `"".join(tokens) == text`."""
    return list(text)


def word_tokenize(text: str, lower: bool = True) -> list[str]:
    """Words (with inner apostrophes) and single punctuation marks; whitespace dropped."""
    if lower:
        text = text.lower()
    return _WORD_RE.findall(text)


class Vocab:
    """A token <-> id map whose ids 0..3 are `SPECIAL_TOKENS`."""

    def __init__(self, tokens: Sequence[str]):
        """`tokens[i]` is the token of id i; the first four must be `SPECIAL_TOKENS`."""
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(
                f"a Vocab's first tokens must be {SPECIAL_TOKENS}; got {tokens[:4]}"
            )
        if len(set(tokens)) != len(tokens):
            dupes = sorted({t for t in tokens if tokens.count(t) > 1})
            raise ValueError(f"duplicate tokens in vocabulary: {dupes[:10]}")
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}

    @classmethod
    def build(
        cls, tokens: Iterable[str], max_size: int | None = None, min_count: int = 1
    ) -> Vocab:
        """Vocabulary of the tokens seen at least `min_count` times, most frequent first.

        `max_size` bounds the total size, the 4 reserved ids included.
        """
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        if max_size is not None and max_size < len(SPECIAL_TOKENS):
            raise ValueError(
                f"max_size must be >= {len(SPECIAL_TOKENS)} (the reserved ids), got {max_size}"
            )
        counts = collections.Counter(tokens)  # insertion order = first appearance
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: ties keep order
        kept = [t for t, c in ranked if c >= min_count and t not in SPECIAL_TOKENS]
        if max_size is not None:
            kept = kept[: max_size - len(SPECIAL_TOKENS)]
        return cls(list(SPECIAL_TOKENS) + kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.tokens == other.tokens

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)})"

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """int32 ids; tokens not in the vocabulary become UNK."""
        index = self.index
        return np.fromiter((index.get(t, UNK) for t in tokens), dtype=np.int32)

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be in [0, {len(self)}); got range [{ids.min()}, {ids.max()}]")
        return [self.tokens[i] for i in ids.tolist()]

    def to_json(self) -> str:
        return json.dumps({"tokens": self.tokens}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        return cls(json.loads(text)["tokens"])


def pad_or_truncate(
    sequences: Sequence[Sequence[int]], length: int, pad: int = PAD
) -> np.ndarray:
    """(N, length) int32: each sequence cut to `length` or right-padded with `pad`."""
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    out = np.full((len(sequences), length), pad, dtype=np.int32)
    for i, seq in enumerate(sequences):
        seq = np.asarray(seq, dtype=np.int32)[:length]
        out[i, : len(seq)] = seq
    return out


def windows(
    ids: Sequence[int] | np.ndarray, length: int, stride: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Next-token windows of a token stream: `(inputs_NxT, targets_NxT)`, T = `length`.

    Window i starts at `i * stride` (default stride = length: no overlap);
    `targets[i, t] == ids[i*stride + t + 1]` (inputs shifted by one). Only full
    windows are kept, so `N = (len(ids) - 1 - length) // stride + 1`.
    """
    ids = np.asarray(ids, dtype=np.int32).reshape(-1)
    stride = length if stride is None else stride
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1, got {length}, {stride}")
    if len(ids) < length + 1:
        raise ValueError(f"need at least length + 1 = {length + 1} ids, got {len(ids)}")
    n = (len(ids) - 1 - length) // stride + 1
    starts_N1 = (np.arange(n) * stride)[:, None]
    offsets_1T = np.arange(length)[None, :]
    return ids[starts_N1 + offsets_1T], ids[starts_N1 + offsets_1T + 1]
