"""Reading prepared array_record files without TFDS gives exactly the records TFDS's data source gives."""

import numpy as np
import pytest

from jaxdl import data
from jaxdl.data import array_records


def assert_same_records(direct, reference):
    assert len(direct) == len(reference)
    for mine, theirs in zip(direct, reference):
        assert mine.keys() == theirs.keys()
        for key, value in theirs.items():
            assert type(mine[key]) is type(value), key
            if isinstance(value, np.ndarray):
                assert mine[key].dtype == value.dtype and mine[key].shape == value.shape
                np.testing.assert_array_equal(mine[key], value)
            else:
                assert mine[key] == value


def prepared(name, data_dir):
    ok, why = data.availability(name, data_dir)
    if not ok:
        pytest.skip(why)
    data.prepare(name, data_dir=data_dir)
    return data.get_spec(name)


# mnist5k: uint8 tensors stored as bytes, class labels, sliced splits; karate_club: scalar int32
# tensors; copy_task: fixed-length byte tensors.
@pytest.mark.parametrize("name", ["mnist5k", "karate_club", "copy_task"])
def test_every_split_reads_as_tfds_reads_it(name, data_dir):
    spec = prepared(name, data_dir)
    for split, tfds_split in spec.splits.items():
        source = data.source(name, split, data_dir)
        direct = array_records.read_split(data_dir, spec.tfds_name, tfds_split)
        assert direct is not None, f"{name} {split} ({tfds_split}) was left to TFDS"
        assert_same_records(direct, source.__getitems__(list(range(len(source)))))


def test_joined_and_sliced_splits_and_a_limit_read_as_tfds_reads_them(data_dir):
    import tensorflow_datasets as tfds

    prepared("mnist5k", data_dir)
    split = "test[-7:]+train[5:12]"
    source = tfds.data_source("mnist5k", split=split, data_dir=data_dir, download=False,
                              builder_kwargs={"file_format": "array_record"})
    reference = source.__getitems__(list(range(len(source))))
    assert_same_records(array_records.read_split(data_dir, "mnist5k", split), reference)
    assert_same_records(array_records.read_split(data_dir, "mnist5k", split, limit=9), reference[:9])


def test_what_it_does_not_read_is_left_to_tfds(data_dir, tmp_path):
    prepared("mnist5k", data_dir)
    assert array_records.read_split(data_dir, "mnist5k", "train[:10%]") is None  # percent slices
    assert array_records.read_split(data_dir, "mnist5k", "nope") is None  # no such split
    assert array_records.read_split(str(tmp_path), "mnist5k", "train") is None  # not prepared here


def test_load_arrays_imports_no_tfds_for_a_prepared_dataset(data_dir):
    import subprocess
    import sys

    prepared("mnist5k", data_dir)
    program = (f"import sys; from jaxdl import data; a = data.load_arrays('mnist5k', 'validation', {data_dir!r}); "
               "print(a['image'].shape, 'tensorflow_datasets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(500,", "28,", "28,", "1)", "False"]


def _varint(v):
    v &= (1 << 64) - 1  # int64 as two's complement, as protobuf writes it
    out = bytearray()
    while True:
        out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
        v >>= 7
        if not out[-1] & 0x80:
            return bytes(out)


def _field(number, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _example(label: int, image: bytes, weights: np.ndarray, order=("label", "image", "w", "r")) -> bytes:
    """A serialized tf.train.Example: "label" Int64List, "image" BytesList, "w" packed FloatList,
    "r" one float (weights[0])."""
    features = {"label": _field(3, _field(1, _varint(label))), "image": _field(1, _field(1, image)),
                "w": _field(2, _field(1, weights.astype("<f4").tobytes())),
                "r": _field(2, _field(1, weights[:1].astype("<f4").tobytes()))}
    entries = b"".join(_field(1, _field(1, k.encode()) + _field(2, features[k])) for k in order)
    return _field(1, entries)


SPECS = {"label": (np.dtype(np.int64), (), False), "image": (np.dtype(np.uint8), (2, 3), True),
         "w": (np.dtype(np.float32), (2,), False), "r": (np.dtype(np.float32), (), False)}


@pytest.mark.parametrize("labels", [[3], [3, 7, 0], [300, 1000, 16383], [-1, -5, -(1 << 62)]])
def test_records_laid_out_alike_are_sliced_to_the_same_values_as_parsing_each(labels):
    rng = np.random.default_rng(0)
    records = [_example(label, rng.integers(0, 256, 6, dtype=np.uint8).tobytes(), rng.normal(size=2))
               for label in labels]
    assert array_records._value_spans(records[0], SPECS) is not None  # the sliced path is taken
    assert_same_records(array_records._decode_all(records, SPECS),
                        [array_records._decode_example(r, SPECS) for r in records])
    assert [r["label"] for r in array_records._decode_all(records, SPECS)] == labels


def test_records_laid_out_differently_are_parsed_one_by_one():
    image, weights = bytes(range(6)), np.ones(2)
    records = [_example(5, image, weights), _example(500, image, weights), _example(7, image, weights)]
    decoded = array_records._decode_all(records, SPECS)  # the second is a byte longer: no slicing
    assert [r["label"] for r in decoded] == [5, 500, 7]
    assert_same_records(decoded, [array_records._decode_example(r, SPECS) for r in records])
    # The same length, the features in another order: offsets differ, so each is parsed.
    reordered = [_example(5, image, weights), _example(6, bytes(range(6, 12)), weights, ("image", "label", "w", "r"))]
    assert len(reordered[0]) == len(reordered[1])
    decoded = array_records._decode_all(reordered, SPECS)
    assert [r["label"] for r in decoded] == [5, 6] and decoded[1]["image"].ravel().tolist() == list(range(6, 12))
