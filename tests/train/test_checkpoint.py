"""Checkpoints: bit-exact roundtrips, retention, and a clear CheckpointError for every way a
checkpoint can be missing, damaged, or from a different run; crashed saves are invisible."""

import math
import os
import subprocess
import sys
import textwrap

import chex
import jax
import jax.numpy as jnp
import pytest

from jaxdl import models
from jaxdl.tasks import classification, losses
from jaxdl.train import optimizers, steps
from jaxdl.train.checkpoint import Checkpointer, CheckpointError
from jaxdl.train.state import TrainState, create

# When one array read of a restore fails, orbax (0.12.8) abandons the other in-flight reads;
# their coroutines raise when garbage collected, whenever that is (often in a later test).
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

FINGERPRINT = {"model": {"name": "mlp", "hidden": (16,)}, "data": "mnist5k", "optimizer": "adam"}


def _tx():
    cfg = optimizers.default_optimizer_config()
    cfg.name = "adam"
    return optimizers.make_optimizer(cfg, total_steps=100)


def fresh_state(hidden=(16,)) -> TrainState:
    model = models.make("mlp", (28, 28, 1), 10, hidden=hidden)
    return create(model, _tx(), jax.random.key(0), jax.random.key(1))


@pytest.fixture(scope="module")
def train_step():
    model = models.make("mlp", (28, 28, 1), 10, hidden=(16,))
    return jax.jit(steps.make_train_step(classification.from_model(model, losses.softmax_cross_entropy), _tx()))


def _batch(seed: int):
    k1, k2 = jax.random.split(jax.random.key(seed))
    return {"image": jax.random.uniform(k1, (8, 28, 28, 1)), "label": jax.random.randint(k2, (8,), 0, 10)}


@pytest.fixture(scope="module")
def trained(train_step) -> TrainState:
    """A state after real Adam updates: params, moments, counts and step all moved."""
    state = fresh_state()
    for seed in range(3):
        state, _ = train_step(state, _batch(seed))
    return state


def _raw(state: TrainState) -> TrainState:
    return state.replace(rng=jax.random.key_data(state.rng))


def assert_states_equal(got: TrainState, want: TrainState):
    assert jax.dtypes.issubdtype(got.rng.dtype, jax.dtypes.prng_key)
    assert jax.random.key_impl(got.rng) == jax.random.key_impl(want.rng)
    chex.assert_trees_all_equal_structs(_raw(got), _raw(want))
    chex.assert_trees_all_equal_shapes_and_dtypes(_raw(got), _raw(want))
    chex.assert_trees_all_equal(_raw(got), _raw(want))  # exact, not close


def _largest_file(root: str) -> str:
    files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    return max(files, key=os.path.getsize)


def test_roundtrip_is_bit_exact_and_training_continues_identically(tmp_path, trained, train_step):
    plateau = {"best": float("nan"), "bad_epochs": 1, "scale": 0.5}
    extra = {"epoch": 3, "step_in_epoch": 12, "plateau": plateau}
    ckpt = Checkpointer(str(tmp_path / "checkpoints"), fingerprint=FINGERPRINT)
    ckpt.save(3, trained, extra)
    ckpt.wait()
    ckpt.close()

    # A new Checkpointer, as a resumed process would make; the target is an untrained state.
    ckpt = Checkpointer(str(tmp_path / "checkpoints"), fingerprint=FINGERPRINT)
    target = fresh_state()
    restored, got_extra = ckpt.restore(target)
    ckpt.close()

    assert int(restored.step) == 3 and int(target.step) == 0
    assert_states_equal(restored, trained)
    chex.assert_trees_all_equal(
        jax.tree.map(lambda x: x.sharding, _raw(restored)), jax.tree.map(lambda x: x.sharding, _raw(target))
    )
    assert math.isnan(got_extra["plateau"].pop("best"))  # NaN survives the JSON roundtrip
    assert got_extra == {"epoch": 3, "step_in_epoch": 12, "plateau": {"bad_epochs": 1, "scale": 0.5}}
    # Same dropout key, moments and counts: the next update is the same to the bit.
    assert_states_equal(train_step(restored, _batch(9))[0], train_step(trained, _batch(9))[0])


def test_keeps_the_last_k_and_restores_any_kept_step(tmp_path, trained):
    directory = str(tmp_path / "checkpoints")
    ckpt = Checkpointer(directory, max_to_keep=2)
    assert ckpt.latest_step() is None
    with pytest.raises(CheckpointError, match=f"no checkpoint in {directory}"):
        ckpt.restore(fresh_state())
    for step in (10, 20, 30):
        ckpt.save(step, trained.replace(step=jnp.int32(step)), {"epoch": step // 10})
        ckpt.wait()
    ckpt.wait()
    assert sorted(os.listdir(directory)) == ["20", "30"]
    assert ckpt.latest_step() == 30

    state, extra = ckpt.restore(fresh_state(), step=20)
    assert int(state.step) == 20 and extra == {"epoch": 2}
    assert_states_equal(state, trained.replace(step=jnp.int32(20)))
    with pytest.raises(CheckpointError, match=rf"no checkpoint {directory}/10; saved steps: \[20, 30\]"):
        ckpt.restore(fresh_state(), step=10)
    # orbax would skip such a save silently and return False.
    with pytest.raises(CheckpointError, match=f"cannot save {directory}/30: step 30 is not after"):
        ckpt.save(30, trained, {})
    ckpt.close()


def test_truncated_data_file_raises_naming_the_checkpoint(tmp_path, trained):
    directory = str(tmp_path / "checkpoints")
    ckpt = Checkpointer(directory)
    ckpt.save(1, trained, {})
    ckpt.wait()
    data_file = _largest_file(os.path.join(directory, "1", "state"))
    with open(data_file, "r+b") as f:
        f.truncate(os.path.getsize(data_file) // 2)
    with pytest.raises(CheckpointError, match=f"cannot read checkpoint {directory}/1: .*OUT_OF_RANGE") as e:
        ckpt.restore(fresh_state())
    assert e.value.__cause__ is not None  # the original error stays attached
    ckpt.close()


def test_a_flipped_byte_is_caught_by_the_checksums(tmp_path, trained):
    # Where the byte lands in a raw chunk TensorStore decodes it without complaint and only the
    # CRC32s notice; where it lands in a zstd-compressed one, decompression fails first ("Data
    # corruption", or "Destination buffer is too small"; which chunk the middle byte falls in
    # varies between runs). Either way the restore must refuse, naming the checkpoint.
    directory = str(tmp_path / "checkpoints")
    ckpt = Checkpointer(directory)
    ckpt.save(1, trained, {})
    ckpt.wait()
    data_file = _largest_file(os.path.join(directory, "1", "state"))
    with open(data_file, "r+b") as f:
        f.seek(os.path.getsize(data_file) // 2)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ 0xFF]))
    with pytest.raises(CheckpointError, match=(f"checkpoint {directory}/1 is corrupt: checksum mismatch in |"
                                              f"cannot read checkpoint {directory}/1: .*"
                                              r"(ZSTD_decompressStream\(\) failed|Data corruption)")):
        ckpt.restore(fresh_state())
    ckpt.close()


@pytest.mark.parametrize(
    "victim", ["*", "state", "state/_METADATA", "state/manifest.ocdbt", "extra", "checksums"]
)
def test_deleted_checkpoint_contents_raise(tmp_path, trained, victim):
    directory = str(tmp_path / "checkpoints")
    ckpt = Checkpointer(directory)
    ckpt.save(1, trained, {})
    ckpt.wait()
    step_dir = os.path.join(directory, "1")
    victims = os.listdir(step_dir) if victim == "*" else [victim]
    subprocess.run(["rm", "-rf", *[os.path.join(step_dir, v) for v in victims]], check=True)
    with pytest.raises(CheckpointError, match=f"cannot read checkpoint {step_dir}: "):
        ckpt.restore(fresh_state())
    ckpt.close()


def test_different_hidden_size_names_the_leaf_and_both_shapes(tmp_path, trained):
    ckpt = Checkpointer(str(tmp_path))
    ckpt.save(1, trained, {})
    ckpt.wait()
    shapes = r"params/layers/0/kernel: checkpoint \(784, 16\) float32 vs target \(784, 32\) float32"
    with pytest.raises(CheckpointError, match=rf"{tmp_path}/1 does not fit the target: .*{shapes}"):
        ckpt.restore(fresh_state(hidden=(32,)))
    # orbax would cast silently to the target's dtype.
    target = fresh_state()
    target = target.replace(params=jax.tree.map(lambda p: p.astype(jnp.bfloat16), target.params))
    dtypes = r"params/layers/1/bias: checkpoint \(10,\) float32 vs target \(10,\) bfloat16"
    with pytest.raises(CheckpointError, match=dtypes):
        ckpt.restore(target)
    ckpt.close()


def test_different_number_of_layers_is_a_structure_error(tmp_path, trained):
    ckpt = Checkpointer(str(tmp_path))
    ckpt.save(1, trained, {})
    ckpt.wait()
    with pytest.raises(
        CheckpointError,
        match=rf"{tmp_path}/1 has a different tree structure than the target: "
        r"missing from the checkpoint: .*params/layers/2/kernel",
    ):
        ckpt.restore(fresh_state(hidden=(16, 16)))
    ckpt.close()


def test_fingerprint_mismatch_names_the_keys_with_both_values(tmp_path, trained):
    first = Checkpointer(str(tmp_path), fingerprint=FINGERPRINT)
    first.save(1, trained, {})
    first.close()
    # Tuples and lists are the same once saved as JSON.
    same = {**FINGERPRINT, "model": {"name": "mlp", "hidden": [16]}}
    Checkpointer(str(tmp_path), fingerprint=same).restore(fresh_state())
    other = {**FINGERPRINT, "data": "fashion_mnist", "seed": 1}
    with pytest.raises(
        CheckpointError,
        match=rf"checkpoint {tmp_path}/1 is from a different run; differing keys: "
        r"data: 'mnist5k' \(checkpoint\) vs 'fashion_mnist' \(this run\); "
        r"seed: '<absent>' \(checkpoint\) vs 1 \(this run\)$",
    ):
        Checkpointer(str(tmp_path), fingerprint=other).restore(fresh_state())
    with pytest.raises(CheckpointError, match=r"model.hidden: \[16\] \(checkpoint\) vs \[32\] \(this run\)"):
        wider = {**FINGERPRINT, "model": {"name": "mlp", "hidden": (32,)}}
        Checkpointer(str(tmp_path), fingerprint=wider).restore(fresh_state())


_CRASHING_SAVE = textwrap.dedent(
    """
    import os, signal, sys
    import jax.numpy as jnp
    sys.path.insert(0, os.path.dirname(sys.argv[2]))
    from test_checkpoint import fresh_state
    from jaxdl.train.checkpoint import Checkpointer

    ckpt = Checkpointer(sys.argv[1])
    ckpt.save(1, fresh_state().replace(step=jnp.int32(1)), {"epoch": 1})
    ckpt.wait()
    rename = os.rename

    def crash_before_commit(src, dst, *args, **kwargs):
        # Everything of step 2 is written; only the commit (renaming its tmp dir) is left.
        if os.path.basename(os.fspath(dst)) == "2":
            os.kill(os.getpid(), signal.SIGKILL)
        return rename(src, dst, *args, **kwargs)

    os.rename = crash_before_commit
    ckpt.save(2, fresh_state().replace(step=jnp.int32(2)), {"epoch": 2})
    ckpt.wait()
    """
)


def test_an_unused_checkpointer_creates_nothing_and_the_first_save_creates_its_directory(tmp_path, trained):
    unused = Checkpointer(str(tmp_path / "unused"))
    unused.wait()
    unused.close()
    assert not (tmp_path / "unused").exists()
    ckpt = Checkpointer(str(tmp_path / "ckpt"))
    assert ckpt.latest_step() is None and ckpt.all_steps() == []
    ckpt.save(3, trained, {"epoch": 1})
    ckpt.wait()
    assert ckpt.all_steps() == [3] and (tmp_path / "ckpt" / "3").is_dir()
    ckpt.close()


def test_a_save_killed_before_commit_is_ignored(tmp_path):
    directory = str(tmp_path / "checkpoints")
    proc = subprocess.run(
        [sys.executable, "-c", _CRASHING_SAVE, directory, __file__],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -9, proc.stderr
    assert sorted(os.listdir(directory)) == ["1", "2.orbax-checkpoint-tmp"]
    assert os.listdir(os.path.join(directory, "2.orbax-checkpoint-tmp", "state"))  # written, not committed

    ckpt = Checkpointer(directory)
    assert ckpt.latest_step() == 1
    state, extra = ckpt.restore(fresh_state())
    assert_states_equal(state, fresh_state().replace(step=jnp.int32(1)))
    assert extra == {"epoch": 1}
    # The resumed run can save step 2 again; the leftover never shows up.
    ckpt.save(2, fresh_state().replace(step=jnp.int32(2)), {"epoch": 2})
    ckpt.wait()
    assert sorted(os.listdir(directory)) == ["1", "2"]
    assert ckpt.restore(fresh_state())[1] == {"epoch": 2}
    ckpt.close()
