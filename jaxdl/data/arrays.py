"""Your own arrays as a dataset: splits of in-memory arrays, or an .npz file, registered by name.

    data.register_arrays("digits", {"train": {"image": x_train, "label": y_train},
                                    "validation": {"image": x_val, "label": y_val}})

Each split is a dict of arrays with the example axis first; every split has the same keys, and
within a split every array has the same length. The loop, sweeps and `evaluate` read them exactly
as they read a TFDS dataset (`source`, `load_arrays`), so the same config trains either.
An .npz file holds the same thing under keys "SPLIT/KEY" ("train/image", "train/label", ...).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from jaxdl.data.spec import DatasetSpec

Splits = Mapping[str, Mapping[str, Any]]


class ArraySource:
    """Random access to one split's examples (len, [i], __getitems__), like a TFDS data source."""

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        self.arrays = arrays

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values())))

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        return {k: v[i] for k, v in self.arrays.items()}

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, np.ndarray]]:
        return [self[i] for i in indices]


def _stack(records: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.stack([r[k] for r in records]) for k in records[0]}


def check_splits(splits: Splits) -> dict[str, dict[str, np.ndarray]]:
    """The splits as numpy arrays; a one-line ValueError for anything a train step cannot take."""
    if not isinstance(splits, Mapping) or "train" not in splits:
        got = sorted(splits, key=str) if isinstance(splits, Mapping) else type(splits).__name__
        raise ValueError(f"data must be a dict of splits with at least 'train', each a dict of arrays; got {got}")
    out, keys = {}, None
    for split, arrays in sorted(splits.items(), key=lambda item: item[0] != "train"):  # 'train' first
        if not isinstance(arrays, Mapping) or not arrays:
            raise ValueError(f"split {split!r} must be a non-empty dict of arrays (example axis first); "
                             f"got {type(arrays).__name__}")
        if keys is not None and set(arrays) != keys:
            raise ValueError(f"split {split!r} has keys {sorted(arrays, key=str)}, but 'train' has "
                             f"{sorted(keys, key=str)}: every split needs the same keys")
        keys = set(arrays)
        out[split] = {k: _numeric(split, k, v) for k, v in arrays.items()}
        lengths = {k: len(v) for k, v in out[split].items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"split {split!r}: arrays differ in length {lengths}; every array needs one row "
                             "per example")
        if not next(iter(lengths.values())):
            raise ValueError(f"split {split!r} has no examples")
    return {split: out[split] for split in splits}  # in the order given


def _numeric(split: str, key: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value)
    except ValueError as e:  # e.g. ragged rows: numpy's own message names neither split nor key
        raise ValueError(f"split {split!r} key {key!r}: not an array ({e})") from None
    # Booleans, integers, floats, complex: not strings, objects, dates or time deltas.
    if array.ndim == 0 or array.dtype.kind not in "biufc":
        raise ValueError(f"split {split!r} key {key!r}: expected a numeric array with the example axis first; "
                         f"got dtype {array.dtype} and shape {array.shape}")
    # JAX computes in 32 bits unless x64 is on; a value that does not fit would change silently.
    narrow = {np.dtype(np.float64): np.float32, np.dtype(np.int64): np.int32}.get(array.dtype)
    if narrow is not None:
        limits = np.finfo(narrow) if array.dtype.kind == "f" else np.iinfo(narrow)
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        if finite.size and (finite.min() < limits.min or finite.max() > limits.max):
            raise ValueError(f"split {split!r} key {key!r}: {array.dtype} values in [{finite.min()}, {finite.max()}] "
                             f"do not fit {np.dtype(narrow)} ([{limits.min}, {limits.max}]), what JAX computes in")
        array = array.astype(narrow)
    return array


def load_npz(path: str) -> dict[str, dict[str, np.ndarray]]:
    """{"train/image": ..., "train/label": ...} in an .npz file -> {"train": {"image": ..., "label": ...}}."""
    if not os.path.exists(path):
        raise ValueError(f"no .npz file at {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise ValueError("it holds one array (an .npy file), not arrays by name")
            declared = _declared_members(path)
            if declared is not None and declared != len(npz.files):
                # e.g. a flipped length in the central directory: zipfile skips the members after it
                raise ValueError(f"its directory declares {declared} arrays but lists {len(npz.files)}")
            members = {name: npz[name] for name in npz.files}
    # A truncated or damaged file fails in zipfile or numpy with anything from BadZipFile and
    # EOFError to NotImplementedError (a flipped compression method): all mean the file is bad.
    except Exception as e:
        first_line = next(iter(str(e).strip().splitlines()), "")
        raise ValueError(f"{path} is not a readable .npz file: {type(e).__name__}: {first_line}") from e
    splits: dict[str, dict[str, np.ndarray]] = {}
    for name, array in members.items():
        split, sep, key = name.partition("/")
        if not sep:
            raise ValueError(f"{path}: key {name!r} is not SPLIT/KEY (e.g. 'train/image')")
        splits.setdefault(split, {})[key] = array
    return splits


def _declared_members(path: str) -> int | None:
    """How many members a zip file's end-of-central-directory record declares (None: not found, or a
    zip64 count, 0xFFFF). zipfile itself never compares it with the members it lists."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - (22 + 0xFFFF)))  # the record (22 bytes) and its longest comment
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 12 > len(tail):
        return None
    declared = int.from_bytes(tail[at + 10:at + 12], "little")
    return None if declared == 0xFFFF else declared


def fingerprint(splits: Mapping[str, Mapping[str, np.ndarray]]) -> str:
    """A short content hash: equal arrays, equal name; a changed array, a new name."""
    digest = hashlib.sha1()
    for split in sorted(splits):
        for key in sorted(splits[split]):
            a = np.ascontiguousarray(splits[split][key])
            digest.update(f"{split}/{key}{a.dtype}{a.shape}".encode())
            digest.update(a.tobytes())
    return digest.hexdigest()[:10]


def array_spec(name: str, splits: Splits, *, num_classes: int | None = None, description: str = "",
               input_key: str = "image", meta: Mapping[str, Any] | None = None) -> DatasetSpec:
    """A DatasetSpec holding `splits` in memory (checked, as numpy arrays).

    `image_shape` is the per-example shape of `input_key` and `num_classes` (for classifiers, when
    the splits have a "label") defaults to the largest training label + 1.
    """
    arrays = check_splits(splits)
    train = arrays["train"]
    if num_classes is None and "label" in train and np.issubdtype(train["label"].dtype, np.integer):
        num_classes = int(train["label"].max()) + 1
    shapes = {k: v.shape[1:] for k, v in train.items()}
    sizes = ", ".join(f"{s} {len(next(iter(a.values())))}" for s, a in arrays.items())
    return DatasetSpec(
        name=name,
        tfds_name=name,
        description=description or f"in-memory arrays ({sizes}; {shapes})",
        splits={s: s for s in arrays},
        offline=True,
        how_to_get="in memory: register the arrays again in this process (data.register_arrays)",
        image_shape=tuple(shapes.get(input_key, ())),
        num_classes=num_classes or 0,
        decode=_stack,
        meta={"input_key": input_key, **(meta or {})},
        arrays=arrays,
    )
