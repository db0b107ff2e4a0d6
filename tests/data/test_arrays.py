"""Your own arrays as a dataset (data.register_arrays, register_npz, or passed to jaxdl.experiment):
read back as given; anything a train step cannot take is refused in one line (exit 2 from the command)."""

import jax
import numpy as np
import pytest

import jaxdl
from jaxdl import cli, data
from tests.helpers import xor_arrays

# What these tests register (their own models, data, experiments) is gone after each.
pytestmark = pytest.mark.usefixtures("forget_registrations")

# Each case: the splits, and the one-line message that refuses them.
BAD_SPLITS = {
    "different_keys": ({"train": {"x": np.zeros((8, 2)), "label": np.zeros(8, int)},
                        "validation": {"x": np.zeros((4, 2))}},
                       "split 'validation' has keys ['x'], but 'train' has ['label', 'x']: every split needs the "
                       "same keys"),
    "different_lengths": ({"train": {"x": np.zeros((8, 2)), "label": np.zeros(7, int)}},
                          "split 'train': arrays differ in length {'x': 8, 'label': 7}; every array needs one row "
                          "per example"),
    "not_numeric": ({"train": {"x": np.zeros((3, 2)), "label": np.array(["cat", "dog", "cat"])}},
                    "split 'train' key 'label': expected a numeric array with the example axis first; got dtype <U3 "
                    "and shape (3,)"),
    "no_train": ({"validation": {"x": np.zeros((4, 2)), "label": np.zeros(4, int)}},
                 "data must be a dict of splits with at least 'train', each a dict of arrays; got ['validation']"),
}


@pytest.mark.parametrize("case", list(BAD_SPLITS))
def test_splits_a_train_step_cannot_take_are_refused_in_one_line(case):
    splits, message = BAD_SPLITS[case]
    with pytest.raises(ValueError) as info:
        data.register_arrays(f"bad_{case}", splits)
    assert str(info.value) == message
    assert f"bad_{case}" not in data.DATASETS  # nothing half-registered


def linear_init(key):
    return {"w": jax.random.normal(key, (2, 2))}


def linear_apply(params, x, *, key=None, train=False):
    return x @ params["w"]


def test_a_batch_larger_than_the_train_split_is_refused_by_the_loop(tmp_path):
    with pytest.raises(ValueError, match=r"^data.batch_size=128 exceeds the 100 training examples$"):
        jaxdl.fit((linear_init, linear_apply), {"train": xor_arrays(100, 0)}, name="xor_too_small",
                  workdir=str(tmp_path / "run"))


STUDY = """
import numpy as np
import jax.numpy as jnp
import jaxdl


def init_{case}(key):
    return {{"w": jnp.zeros((2, 2))}}


def apply(params, x, *, key=None, train=False):
    return x @ params["w"]


def get_config():
    return jaxdl.experiment((init_{case}, apply), {splits}, name="study_{case}")
"""


def _as_source(splits):
    """The splits as Python source (np.array literals) for a study file."""
    def array(a):
        return f"np.array({a.tolist()!r}, dtype={str(a.dtype)!r})"

    return "{" + ", ".join(f"{split!r}: {{" + ", ".join(f"{k!r}: {array(np.asarray(v))}" for k, v in arrays.items())
                           + "}" for split, arrays in splits.items()) + "}"


@pytest.mark.parametrize("case", [*BAD_SPLITS, "batch_too_large"])
def test_the_command_exits_2_with_one_line_for_each_data_error(tmp_path, capsys, case):
    splits, message = BAD_SPLITS.get(case, ({"train": xor_arrays(100, 0)}, "data.batch_size=128 exceeds the 100 "
                                                                           "training examples"))
    study = tmp_path / f"{case}.py"
    # Each study file names its own init function: two files defining one model name would clash.
    study.write_text(STUDY.format(case=case, splits=_as_source(splits)))
    assert cli.main(["train", str(study), "--workdir", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == f"jaxdl: error: {message}\n"


def test_arrays_are_read_back_as_given_float64_as_float32_int64_as_int32():
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    labels = np.array([0, 1, 2, 0, 1, 2], dtype=np.int64)
    spec = data.register_arrays("six_points", {"train": {"x": x, "label": labels}, "test": {"x": x[:2],
                                                                                          "label": labels[:2]}},
                                input_key="x")
    assert spec.num_classes == 3 and spec.image_shape == (2,) and spec.splits == {"train": "train", "test": "test"}
    assert data.availability("six_points") == (True, "in memory")
    train = data.load_arrays("six_points", "train")
    assert train["x"].dtype == np.float32 and train["label"].dtype == np.int32
    np.testing.assert_array_equal(train["x"], x)
    np.testing.assert_array_equal(data.load_arrays("six_points", "test", max_examples=1)["label"], [0])
    np.testing.assert_array_equal(data.source("six_points", "train")[4]["x"], x[4])


def test_an_npz_file_is_the_same_dataset_as_its_arrays(tmp_path):
    splits = {"train": xor_arrays(64, 0), "validation": xor_arrays(16, 1)}
    path = tmp_path / "xor.npz"
    np.savez(path, **{f"{split}/{key}": a for split, arrays in splits.items() for key, a in arrays.items()})
    model = (linear_init, linear_apply)
    from_file = jaxdl.experiment(model, str(path), name="xor_npz")
    in_memory = jaxdl.experiment(model, splits, name="xor_npz")
    assert from_file.data.name == in_memory.data.name  # named by content, not by where it came from
    assert from_file.sources.data == f"{path} as {from_file.data.name}"
    spec = data.register_npz("xor_npz_file", str(path), input_key="x")
    np.testing.assert_array_equal(data.load_arrays(spec.name, "validation")["x"], splits["validation"]["x"])
    np.savez(tmp_path / "flat.npz", x=splits["train"]["x"])
    with pytest.raises(ValueError, match=r"flat.npz: key 'x' is not SPLIT/KEY \(e.g. 'train/image'\)$"):
        data.register_npz("flat", str(tmp_path / "flat.npz"))
