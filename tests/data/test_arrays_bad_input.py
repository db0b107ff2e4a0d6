"""User arrays and .npz files with random bad structure (hypothesis): each fails as one ValueError line
naming what is wrong (the split, the key, or the file), and good ones register, so each property can
fail both ways. A damaged .npz either fails naming the file or reads back exactly the arrays saved."""

import itertools
import os

import numpy as np
import pytest
from hypothesis import event, example, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from jaxdl import data

_names = itertools.count()
SPLITS = ("train", "validation", "test")
KEYS = ("image", "label", "x")
NUMERIC = st.sampled_from(["float32", "float64", "int8", "int32", "int64", "uint8", "bool", "float16"])
# 64-bit values are narrowed to 32 bits (what JAX computes in): good data fits.
_ELEMENTS = {"float64": st.floats(width=32), "int64": st.integers(-(2**31), 2**31 - 1)}


def _register(splits, *, npz: str | None = None):
    """register_arrays (or register_npz) under a fresh name, removed again: the registry is process-wide."""
    name = f"bad_input_{next(_names)}"
    try:
        return data.register_npz(name, npz) if npz else data.register_arrays(name, splits)
    finally:
        if name in data.DATASETS:
            del data.DATASETS[name]


def _register_npz(path: str):
    return _register(None, npz=path)


def _one_line_error(call, *names) -> str:
    with pytest.raises(ValueError) as e:
        call()
    message = str(e.value)
    assert len(message.splitlines()) == 1, message
    assert all(n in message for n in names), (names, message)
    return message


@st.composite
def good_splits(draw) -> dict:
    """'train' and maybe more splits; the same keys in each; one length per split; numeric arrays."""
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True))
    dtypes = {k: draw(NUMERIC) for k in keys}
    shapes = {k: draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)) for k in keys}
    splits = {}
    for split in ["train", *draw(st.lists(st.sampled_from(SPLITS[1:]), unique=True))]:
        n = draw(st.integers(1, 5))
        splits[split] = {k: draw(hnp.arrays(dtypes[k], (n, *shapes[k]), elements=_ELEMENTS.get(dtypes[k])))
                         for k in keys}
    return splits


@st.composite
def bad_splits(draw) -> tuple[object, tuple[str, ...]]:
    """(splits with one thing wrong, what the error must name)."""
    splits = draw(good_splits())
    family = draw(st.sampled_from(["not_a_dict", "no_train", "split_not_a_dict", "empty_split", "extra_key",
                                   "missing_key", "lengths", "dtype", "zero_d", "no_examples", "ragged",
                                   "too_wide"]))
    split = draw(st.sampled_from(sorted(splits)))
    key = draw(st.sampled_from(sorted(splits[split])))
    if family == "not_a_dict":
        return draw(st.sampled_from([None, [splits["train"]], np.zeros(3), "train", 3])), ()
    if family == "no_train":
        splits["training"] = splits.pop("train")
        return splits, ("'train'",)
    if family == "split_not_a_dict":
        splits[split] = draw(st.sampled_from([None, list(splits[split].values()), np.zeros((2, 2)), "x"]))
        return splits, (repr(split),)
    if family == "empty_split":
        splits[split] = {}
        return splits, (repr(split),)
    if family in ("extra_key", "missing_key"):
        if len(splits) == 1:  # a second split to differ from 'train'
            splits["test"] = dict(splits["train"])
        other = draw(st.sampled_from(sorted(set(splits) - {"train"})))
        if family == "extra_key" or len(splits[other]) == 1:
            splits[other] = {**splits[other], "extra": splits[other][next(iter(splits[other]))]}
        else:
            splits[other] = dict(list(splits[other].items())[1:])
        return splits, (repr(other),)
    if family == "lengths":
        if len(splits[split]) == 1:  # a second array to differ in length
            splits[split] = {**splits[split], "extra": splits[split][key]}
        array = splits[split][key]
        splits[split][key] = np.concatenate([array, np.repeat(array[:1], draw(st.integers(1, 3)), axis=0)])
        return splits, (repr(split),)
    if family == "dtype":  # text, Python objects, bytes, dates: nothing a train step takes
        n = len(splits[split][key])
        splits[split][key] = draw(st.sampled_from([
            np.array(["a"] * n), np.array([object()] * n), np.array([b"x"] * n), [None] * n, ["1"] * n,
            np.array(["2024-01-01"] * n, dtype="datetime64[D]"), np.array([1] * n, dtype="timedelta64[s]"),
        ]))
        return splits, (repr(split), repr(key))
    if family == "zero_d":
        splits[split][key] = draw(st.sampled_from([np.float32(1.0), 3, np.array(2.0)]))
        return splits, (repr(split), repr(key))
    if family == "no_examples":
        splits[split] = {k: v[:0] for k, v in splits[split].items()}
        return splits, (repr(split),)
    if family == "too_wide":  # narrowed to 32 bits, the value would change
        n = len(splits[split][key])
        wide = draw(st.sampled_from([np.array([2**31] * n), np.array([-(2**40)] * n), np.array([1e39] * n),
                                     np.array([-np.finfo(np.float64).max] * n)]))
        splits[split][key] = wide
        return splits, (repr(split), repr(key), "do not fit")
    # ragged: rows of different lengths cannot be one array
    splits[split][key] = [[1.0] * (i + 1) for i in range(len(splits[split][key]) + 1)]
    return splits, (repr(split), repr(key))


@settings(max_examples=400, deadline=None)
@given(bad_splits())
@example(({"train": {"x": [[1.0], [1.0, 2.0]]}}, ("'train'", "'x'")))  # np.asarray's error named no key
@example(({"train": {"x": np.array([1, 2], dtype="timedelta64[s]")}}, ("'train'", "'x'")))  # a timedelta is no number
@example(({1: {}, "a": {}}, ()))  # sorting mixed split names raised TypeError
@example(({"train": {"x": np.array([2**31])}}, ("'train'", "'x'")))  # int64 -> int32 wrapped around silently
@example(({"train": {"x": np.array([1e39])}}, ("'train'", "'x'")))  # float64 -> float32 became inf silently
def test_bad_arrays_fail_as_one_line_naming_what_is_wrong(bad):
    splits, names = bad
    _one_line_error(lambda: _register(splits), *names)


@settings(max_examples=200, deadline=None)
@given(good_splits())
def test_good_arrays_register_with_their_values(splits):
    spec = _register(splits)
    assert set(spec.splits) == set(splits)
    for split, arrays in splits.items():
        for key, array in arrays.items():
            got = spec.arrays[split][key]
            # float64 and int64 are narrowed to what JAX computes in; values otherwise as given.
            np.testing.assert_array_equal(got, np.asarray(array).astype(got.dtype))


def _save_npz(path, splits) -> None:
    np.savez(path, **{f"{split}/{key}": array for split, arrays in splits.items() for key, array in arrays.items()})


# Three arrays in 'train': saved, the .npz is 793 bytes, its central directory starts at byte 592.
THREE_ARRAYS = {"train": {"image": np.zeros(1, np.float32), "label": np.zeros(1, np.int8),
                          "x": np.zeros((1, 3), np.float32)}}


@settings(max_examples=400, deadline=None)
@given(st.tuples(good_splits(), st.sampled_from(["flip", "truncate"]), st.floats(0, 1, exclude_max=True),
                 st.integers(1, 255)))
# Byte 686 is the comment length of the second member's entry: zipfile read the third entry as that
# comment and listed two arrays; 'x' was gone without an error.
@example((THREE_ARRAYS, "flip", 686.5 / 793, 0x01))
def test_damaged_npz_fails_naming_the_file_or_reads_back_the_same_arrays(tmp_path_factory, damaged):
    splits, damage, at, mask = damaged  # truncate there, or XOR the byte there with mask
    path = str(tmp_path_factory.mktemp("npz") / "data.npz")
    _save_npz(path, splits)
    offset = int(at * os.path.getsize(path))
    with open(path, "r+b") as f:
        if damage == "truncate":
            f.truncate(offset)
        else:
            f.seek(offset)
            byte = f.read(1)[0]
            f.seek(offset)
            f.write(bytes([byte ^ mask]))
    try:
        spec = _register_npz(path)
    except ValueError as e:
        assert len(str(e).splitlines()) == 1 and path in str(e), str(e)
        event(f"{damage}: refused")
        return
    event(f"{damage}: read back the same")
    # Registered: only bytes nothing reads (a zip timestamp, say) may have changed.
    assert set(spec.arrays) == set(splits) and all(set(spec.arrays[s]) == set(splits[s]) for s in splits)
    for split, arrays in splits.items():
        for key, array in arrays.items():
            got = spec.arrays[split][key]
            assert got.shape == array.shape
            np.testing.assert_array_equal(got, array.astype(got.dtype))


@pytest.mark.parametrize("content, names", [
    ({"image": np.zeros((2, 3))}, ["'image' is not SPLIT/KEY"]),
    ({"train/image": np.zeros((2, 3)), "label": np.zeros(2)}, ["'label' is not SPLIT/KEY"]),
    ({"validation/image": np.zeros((2, 3))}, ["'train'"]),
    ({"train/image": np.zeros((2, 3)), "train/label": np.zeros(3)}, ["'train'", "differ in length"]),
    ({"train/image": np.array(["a", "b"])}, ["'train'", "'image'"]),
])
def test_badly_structured_npz_fails_naming_the_key(tmp_path, content, names):
    path = str(tmp_path / "data.npz")
    np.savez(path, **content)
    _one_line_error(lambda: _register_npz(path), path, *names)


def test_files_that_are_not_npz_fail_naming_the_file(tmp_path):
    objects = str(tmp_path / "objects.npz")
    np.savez(objects, **{"train/x": np.array([{"a": 1}, None], dtype=object)})  # needs pickle to read
    npy = str(tmp_path / "array.npz")
    np.save(npy, np.zeros(3))
    os.replace(npy + ".npy", npy)  # one .npy array, not a zip of them
    text = tmp_path / "text.npz"
    text.write_text("train/x,1,2,3\n")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    for path in (objects, npy, str(text), str(empty), str(tmp_path)):
        _one_line_error(lambda p=path: _register_npz(p), path)
    _one_line_error(lambda: _register_npz(str(tmp_path / "missing.npz")), "no .npz file at")
