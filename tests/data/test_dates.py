"""The dates and reversal datasets: unambiguous sources, codecs, builders, fixed splits."""

import datetime

import numpy as np
import pytest

from jaxdl import data
from jaxdl.data import dates, text
from jaxdl.data.builders import dates as builder


def _days(first: str, last: str):
    day, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    while day <= end:
        yield day
        day += datetime.timedelta(days=1)


def test_every_written_date_names_one_day_and_fits_the_codec():
    """Two leap-cycle years in every (locale, pattern): no string for two days, no unknown character."""
    named: dict[str, datetime.date] = {}
    clashes = []
    for locale in dates.LOCALES:
        for pattern in builder.patterns(locale):
            for day in _days("1999-01-01", "2000-12-31"):
                text = builder.write(day, locale, pattern)
                if named.setdefault(text, day) != day:
                    clashes.append((text, named[text], day, locale, pattern))
                assert set(text) <= set(dates.DATE_CHARS), (text, locale, pattern)
                assert len(text) <= dates.DATES_SOURCE_LEN, text
    assert not clashes, clashes[:5]
    assert len(named) > 30_000  # the loop did run over every pattern (locales share some forms)


def test_the_ambiguous_us_short_form_is_the_only_month_first_two_digit_slash_form():
    forms = {loc: builder.patterns(loc) for loc in dates.LOCALES}
    slash_yy = [(loc, p) for loc, ps in forms.items() for p in ps if "/" in p and "yy" in p]
    assert slash_yy == [("en_US", "M/d/yy")]
    assert builder.write(datetime.date(2005, 3, 4), "en_US", "M/d/yy") == "3/4/05"


def test_two_digit_years_map_into_the_date_range():
    first, last = (datetime.date.fromisoformat(d) for d in (dates.FIRST_DAY, dates.LAST_DAY))
    assert last.year - first.year + 1 == 100  # yy is unique within the range


@pytest.mark.parametrize("codec", [dates.DATES_SOURCE, dates.DATES_TARGET, dates.REVERSE_TARGET])
def test_codec_round_trip(codec):
    texts = ["2023-09-03", "1950-01-01"] if codec is dates.DATES_TARGET else ["abc", "j"]
    if codec is dates.DATES_SOURCE:
        texts = ["Sonntag, 3. März 2023", "3 de set. de 2023", "9/3/23"]
    ids = codec.encode(texts)
    assert ids.shape == (len(texts), codec.length) and ids.dtype == np.int32
    assert [codec.decode(row) for row in ids] == texts
    if codec.framed:
        np.testing.assert_array_equal(ids[:, 0], text.BOS)
        assert all(row.tolist().index(text.EOS) == len(t) + 1 for row, t in zip(ids, texts))


def test_codec_unknown_characters_and_overflow():
    ids = dates.DATES_SOURCE.encode(["3 Ωx"])
    assert ids[0, 2] == text.UNK and ids[0, 4] == text.PAD
    with pytest.raises(ValueError, match="needs 13 ids"):
        dates.DATES_TARGET.encode(["2023-09-033"])


def test_generation_is_a_pure_function_of_the_seed():
    a, b = builder.date_examples(50, 7, set()), builder.date_examples(50, 7, set())
    assert a == b and a != builder.date_examples(50, 8, set())
    for ex in a:
        assert ex["pattern"] in builder.patterns(ex["locale"])
        assert builder.write(datetime.date.fromisoformat(ex["target"]), ex["locale"], ex["pattern"]) == ex["source"]


def test_dates_builder_splits(data_dir):
    sources = {}
    for split, size in dates.DATES_SIZES.items():
        src = data.source("dates", split, data_dir=data_dir)
        assert len(src) == size
        records = src.__getitems__(list(range(size)))
        sources[split] = {r["source"].decode() for r in records}
        assert len(sources[split]) == size  # no repeated source within a split
        for r in records[:200]:
            day = datetime.date.fromisoformat(r["target"].decode())
            assert builder.write(day, r["locale"].decode(), r["pattern"].decode()) == r["source"].decode()
    assert not sources["train"] & sources["test"] and not sources["validation"] & sources["test"]
    assert not sources["train"] & sources["validation"]
    # The test set is fixed: these are in it whatever the training-set size.
    assert sources["test"] == {e["source"] for e in builder.date_examples(2000, dates.DATES_SEEDS["test"], set())}
    arrays = data.load_arrays("dates", "test", data_dir=data_dir)
    assert arrays["source"].shape == (2000, dates.DATES_SOURCE_LEN)
    assert arrays["target"].shape == (2000, dates.DATES_TARGET_LEN)
    assert not np.any(arrays["source"] == text.UNK)


def test_reverse_builder(data_dir):
    arrays = data.load_arrays("reverse", "validation", data_dir=data_dir)
    assert arrays["source"].shape == (500, 8) and arrays["target"].shape == (500, 10)
    for s, t in zip(arrays["source"][:50], arrays["target"][:50]):
        text = dates.REVERSE_SOURCE.decode(s)
        assert 2 <= len(text) <= 8 and dates.REVERSE_TARGET.decode(t) == text[::-1]


def test_dates_spec_is_offline_and_located():
    assert data.availability("dates")[0]
    assert data.get_spec("dates").meta["target"].vocab_size == 4 + 11
