"""`jaxdl_dates` and `jaxdl_reverse`: string pairs generated offline (see jaxdl.data.dates)."""
from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow_datasets as tfds
from babel.dates import format_date, get_date_format
from faker import Faker

from jaxdl.data import dates
from jaxdl.data.builders import common

_NBSP = {"\u00a0": " ", "\u202f": " "}


def patterns(locale: str) -> tuple[str, ...]:
    """The babel patterns `locale` writes dates in (named formats resolved, then the custom ones)."""
    named = tuple(
        dates.SHORT_OVERRIDES[locale] if name == "short" and locale in dates.SHORT_OVERRIDES
        else get_date_format(name, locale=locale).pattern
        for name in dates.FORMATS
    )
    return tuple(dict.fromkeys(named + dates.CUSTOM_PATTERNS))  # distinct, in order


def write(day: datetime.date, locale: str, pattern: str) -> str:
    text = format_date(day, pattern, locale=locale)
    for nbsp, space in _NBSP.items():
        text = text.replace(nbsp, space)
    return text


def date_examples(n: int, seed: int, exclude: set[str]) -> list[dict[str, str]]:
    """`n` examples with sources not in `exclude` (which grows by them); a pure function of the arguments."""
    fake, choose = Faker(), random.Random(seed)
    fake.seed_instance(seed)
    first, last = (datetime.date.fromisoformat(d) for d in (dates.FIRST_DAY, dates.LAST_DAY))
    table = {locale: patterns(locale) for locale in dates.LOCALES}
    out = []
    while len(out) < n:
        day = fake.date_between_dates(first, last)
        locale = choose.choice(dates.LOCALES)
        pattern = choose.choice(table[locale])
        source = write(day, locale, pattern)
        if source in exclude:
            continue
        exclude.add(source)
        out.append({"source": source, "target": day.isoformat(), "locale": locale, "pattern": pattern})
    return out


def reverse_examples(n: int, seed: int, exclude: set[str]) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    lo, hi = dates.REVERSE_LENGTHS
    out = []
    while len(out) < n:
        source = "".join(rng.choice(list(dates.REVERSE_CHARS), size=int(rng.integers(lo, hi + 1))))
        if source in exclude:
            continue
        exclude.add(source)
        out.append({"source": source, "target": source[::-1], "locale": "", "pattern": ""})
    return out


def _all_splits(make: Callable, sizes: dict[str, int], seeds: dict[str, int]) -> dict[str, list]:
    """Splits in the order of `seeds` (test first), none repeating an earlier split's source."""
    seen: set[str] = set()
    return {split: make(sizes[split], seed, seen) for split, seed in seeds.items()}


def _string_pair_info(builder: tfds.core.DatasetBuilder, spec, homepage: str) -> tfds.core.DatasetInfo:
    text = lambda: tfds.features.Tensor(shape=(), dtype=np.str_)  # noqa: E731  (utf-8 bytes, no TF)
    return tfds.core.DatasetInfo(
        builder=builder,
        description=spec.description,
        features=tfds.features.FeaturesDict(
            {"source": text(), "target": text(), "locale": text(), "pattern": text()}),
        supervised_keys=("source", "target"),
        homepage=homepage,
    )


class _StringPairs(common.OfflineBuilder, skip_registration=True):
    """What the two builders share; not a dataset itself."""

    SPEC = None
    MAKE: Callable = None
    SIZES: dict = {}
    SEEDS: dict = {}

    def _info(self) -> tfds.core.DatasetInfo:
        return _string_pair_info(self, self.SPEC, "https://babel.pocoo.org/")

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        del dl_manager  # generated locally
        self.SPEC.locate()
        splits = _all_splits(type(self).MAKE, self.SIZES, self.SEEDS)
        return {split: self._generate_examples(examples) for split, examples in splits.items()}

    def _generate_examples(self, examples: list[dict[str, str]]) -> Iterator:
        yield from enumerate(examples)  # generation order is the key: splits keep it


class JaxdlDates(_StringPairs):
    """Human-written dates -> ISO dates (jaxdl.data.dates)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    SPEC, MAKE = dates.DATES, staticmethod(date_examples)
    SIZES, SEEDS = dates.DATES_SIZES, dates.DATES_SEEDS


class JaxdlReverse(_StringPairs):
    """Letter strings -> reversed (jaxdl.data.dates)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    SPEC, MAKE = dates.REVERSE, staticmethod(reverse_examples)
    SIZES, SEEDS = dates.REVERSE_SIZES, dates.REVERSE_SEEDS
