"""A finished run's files damaged at random (hypothesis): config.json truncated, byte-flipped, with keys
deleted or values of the wrong type, not JSON, naming an unknown experiment; checkpoint files truncated
or byte-flipped. `jaxdl evaluate` and `jaxdl train --resume` then exit 2 with one stderr line naming the
file, key or checkpoint and leave the workdir as it was, or (where the damage changed nothing they
read) succeed with exactly the trained state; never a traceback, never a silently different state."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import chex
import jax
import pytest
from hypothesis import HealthCheck, event, example, given, settings, strategies as st

from jaxdl import cli, experiments
from jaxdl.runs import saved
from jaxdl.train import checkpoint

# When one array read of a restore fails, orbax abandons the other reads in flight, and each
# reports an exception Python would print as a traceback; Checkpointer.restore drops exactly
# those, so any report that still arrives here is one a user would see.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")

# Small and quick: 16 hidden units, 2 steps, one evaluation split. data.data_dir stays "" (the data
# dir comes from JAXDL_DATA_DIR), so no byte flip in config.json can point a run at another folder.
SETS = ["train.num_steps=2", "model.hidden=(16,)", "train.eval_splits=('validation',)"]
STEP = "2"  # the run's only checkpoint
DAMAGE_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _data_dir_env(monkeypatch, data_dir):
    monkeypatch.setenv("JAXDL_DATA_DIR", data_dir)


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir):
    """(workdir of a finished tiny mnist_mlp run, its trained TrainState, the loop position saved with it)."""
    workdir = str(tmp_path_factory.mktemp("tiny_run"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JAXDL_DATA_DIR", data_dir)
        assert cli.main(["train", "mnist_mlp", "--workdir", workdir, *_sets()]) == 0
        assert cli.main(["evaluate", "--workdir", workdir]) == 0  # the undamaged run evaluates
        _, _, state = saved.restore(workdir)
        extra = _restore_extra(workdir, state)
    os.remove(os.path.join(workdir, "evaluations.jsonl"))
    return workdir, state, extra


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    return str(tmp_path_factory.mktemp("copies"))


def _sets() -> list[str]:
    return [a for s in SETS for a in ("--set", s)]


def _restore_extra(workdir: str, like) -> dict:
    ckpt = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"))
    try:
        return ckpt.restore(like)[1]
    finally:
        ckpt.close()


def _copy(run, copies) -> str:
    copy = os.path.join(tempfile.mkdtemp(dir=copies), "run")
    shutil.copytree(run[0], copy)
    return copy


def _snapshot(workdir: str) -> dict[str, str]:
    """Every file and folder under `workdir` -> a hash of its contents ("dir" for folders)."""
    out = {}
    for root, dirs, files in os.walk(workdir):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), workdir)] = "dir"
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                out[os.path.relpath(os.path.join(root, f), workdir)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def _cli(capsys, argv) -> tuple[int, str, str]:
    """Runs in a scratch folder: a damaged config.json may name any relative data.data_dir, which
    evaluate then builds the dataset into (else into the folder the suite runs from, the repo's)."""
    capsys.readouterr()  # an earlier example's output
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            code = cli.main(argv)
        finally:
            os.chdir(cwd)
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_error_line(err: str, *names: str) -> None:
    assert err.startswith("jaxdl: error: ") and err.endswith("\n") and len(err.splitlines()) == 1, err
    assert any(n in err for n in names), (names, err)


def _raw(state):
    return state.replace(rng=jax.random.key_data(state.rng))


# --- config.json ---


def _leaf_paths(values: dict, prefix: str = "") -> list[str]:
    paths = []
    for key, value in values.items():
        paths.append(prefix + key)
        if isinstance(value, dict):
            paths.extend(_leaf_paths(value, f"{prefix}{key}."))
    return paths


def _same_kind(value, saved) -> bool:
    """Whether `value` is of the kind config.json held (an int is a float, a list holds its items' kind)."""
    if isinstance(saved, list):
        return isinstance(value, list) and (not saved or all(_same_kind(v, saved[0]) for v in value))
    if type(saved) is float:
        return type(value) in (int, float)
    return type(value) is type(saved)


def _malformed(content: bytes, original: dict) -> str | None:
    """What a reader of `content` must refuse, as the key to name ("" for the file as a whole), or None.

    Written apart from jaxdl's reader: not UTF-8 JSON, not an object, another experiment, or a
    value of another kind than the original's (keys it lacks or adds are allowed).
    """
    try:
        values = json.loads(content.decode("utf-8"))
    except ValueError:
        return ""
    if not isinstance(values, dict) or values.get("experiment") != original["experiment"]:
        return ""

    def wrong(values: dict, original: dict, prefix: str) -> str | None:
        for key, value in values.items():
            if key not in original:
                continue
            if isinstance(original[key], dict):
                if not isinstance(value, dict):
                    return prefix + key
                if (inner := wrong(value, original[key], f"{prefix}{key}.")) is not None:
                    return inner
            elif not _same_kind(value, original[key]):
                return prefix + key
        return None

    return wrong(values, original, "")


def _edited(values: dict, path: str, new=None, *, delete: bool = False) -> dict:
    """A copy of `values` with the dotted `path` deleted or set to `new`."""
    values = json.loads(json.dumps(values))
    *parents, leaf = path.split(".")
    node = values
    for p in parents:
        node = node[p]
    if delete:
        del node[leaf]
    else:
        node[leaf] = new
    return values


# The keys and sections of the run's config.json (sorted, as jaxdl writes it).
PATHS = sorted(_leaf_paths(experiments.get_config("mnist_mlp").to_dict()))
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False),
                        st.text(max_size=6), st.lists(st.integers(-2, 3), max_size=2),
                        st.lists(st.text(max_size=3), min_size=1, max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
AT = st.floats(0, 1, exclude_max=True)  # where in a file, as a fraction of its length
CONFIG_DAMAGE = st.one_of(
    st.tuples(st.just("truncate"), AT),
    st.tuples(st.just("flip"), AT, st.integers(1, 255)),  # the byte XOR this mask
    st.tuples(st.just("delete"), st.sampled_from(PATHS)),
    st.tuples(st.just("wrong_type"), st.sampled_from(PATHS), JSON_VALUES),
    st.tuples(st.just("not_json"), st.one_of(st.binary(max_size=40), st.sampled_from(
        [b"", b"null", b"[]", b"42", b'"mnist_mlp"', b"{", b"\xef\xbb\xbf{}", b'{"experiment": null}']))),
    st.tuples(st.just("experiment"), st.one_of(st.just("no_such_study.py"), st.text(min_size=1, max_size=12).filter(
        lambda n: n not in experiments.EXPERIMENTS and not n.partition(":")[0].endswith(".py")))),
)


def _damage_config(original: bytes, damage: tuple) -> bytes:
    family, *how = damage
    values = json.loads(original)
    if family == "truncate":  # any prefix of a JSON object is not one
        return original[: int(how[0] * len(original.rstrip()))]
    if family == "flip":
        at = int(how[0] * len(original))
        return original[:at] + bytes([original[at] ^ how[1]]) + original[at + 1:]
    if family == "delete":
        return json.dumps(_edited(values, how[0], delete=True)).encode()
    if family == "wrong_type":
        return json.dumps(_edited(values, how[0], how[1])).encode()
    if family == "not_json":
        return how[0]
    return json.dumps({**values, "experiment": how[0]}).encode()


@settings(DAMAGE_SETTINGS, max_examples=100)
@given(CONFIG_DAMAGE)
# Each raised something main does not catch, or a ValueError naming no file:
@example(("flip", 0.5, 0x80))  # not UTF-8: UnicodeDecodeError
@example(("truncate", 0.5))  # JSONDecodeError
@example(("not_json", b"[]"))  # TypeError: list indices must be integers
@example(("delete", "experiment"))  # KeyError: 'experiment'
@example(("wrong_type", "experiment", 3))  # AttributeError: int has no partition
@example(("wrong_type", "model", 3))  # AttributeError: int has no items
@example(("wrong_type", "model.hidden", 5))  # TypeError: int is not iterable
@example(("wrong_type", "seed", "x"))  # TypeError from ConfigDict's type check
@example(("wrong_type", "model.hidden", [1.5]))  # a float layer width reached the model
@example(("experiment", "nope"))  # unknown experiment, but which file said so?
@example(("wrong_type", "model.hidden", [0]))  # ZeroDivisionError building the model from it
@example(("wrong_type", "optimizer.b1", 1.0))  # "b1 and b2 must be in [0, 1)": which file said so?
@example(("delete", "train"))  # a missing section takes the defaults: evaluates
def test_damaged_config_json_fails_naming_the_file_and_key_or_evaluates(run, copies, capsys, damage):
    workdir = _copy(run, copies)
    path = os.path.join(workdir, "config.json")
    with open(path, "rb") as f:
        original = f.read()
    content = _damage_config(original, damage)
    with open(path, "wb") as f:
        f.write(content)
    must_refuse = _malformed(content, json.loads(original))
    before = _snapshot(workdir)
    if must_refuse is not None:
        with pytest.raises(ValueError) as e:
            saved.load_config(workdir)
        assert len(str(e.value).splitlines()) == 1 and path in str(e.value) and must_refuse in str(e.value)
    code, out, err = _cli(capsys, ["evaluate", "--workdir", workdir])
    after = _snapshot(workdir)
    if code == 0:
        assert must_refuse is None, f"{damage[0]} damage evaluated: {content[:200]!r}"
        event(f"{damage[0]}: evaluated")
        # Only the evaluation's record was added.
        assert {k: v for k, v in after.items() if k != "evaluations.jsonl"} == before
    else:
        event(f"{damage[0]}: refused")
        assert code == 2 and out == "" and after == before
        if must_refuse is not None:
            _assert_one_error_line(err, path)
            assert must_refuse in err
        else:  # well-formed, but e.g. a value the checkpoint's fingerprint does not match
            _assert_one_error_line(err, path, os.path.join(workdir, "checkpoints"))
    if damage == ("delete", "train"):
        assert code == 0  # the defaults of a missing section are what a run saved before it existed gets
    shutil.rmtree(os.path.dirname(workdir))


# --- checkpoints/STEP/ ---

CHECKPOINT_DAMAGE = st.tuples(
    st.integers(0, 59),  # which file under checkpoints/STEP, largest first (modulo their number, 20); or its path
    st.sampled_from(["truncate", "flip"]),
    AT,
    st.integers(1, 255),  # flip: the byte XOR this mask
)


def _damage_checkpoint(workdir: str, damage: tuple) -> str:
    """Truncates or flips a byte of one file under checkpoints/STEP; returns the file's path."""
    index, how, at, mask = damage
    step_dir = os.path.join(workdir, "checkpoints", STEP)
    # Largest first: hypothesis favours small indices, and the large files hold the arrays.
    files = sorted((os.path.join(d, f) for d, _, fs in os.walk(step_dir) for f in fs),
                   key=lambda p: (-os.path.getsize(p), p))
    path = os.path.join(step_dir, index) if isinstance(index, str) else files[index % len(files)]
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        if how == "truncate":
            f.truncate(int(at * size))
        elif size:
            f.seek(int(at * size))
            byte = f.read(1)[0]
            f.seek(int(at * size))
            f.write(bytes([byte ^ mask]))
    return path


def _assert_restores_the_trained_run(run, workdir: str) -> None:
    """A restore that succeeds must give back exactly what was trained: params, optimizer state,
    step, dropout key and the loop's position (a resumed run continues from it)."""
    _, state, extra = run
    _, _, restored = saved.restore(workdir)
    chex.assert_trees_all_equal(_raw(restored), _raw(state))
    assert _restore_extra(workdir, state) == extra


def _checkpoint_dirs(workdir: str) -> dict[str, str]:
    """The snapshot of checkpoints/ alone."""
    return {k: v for k, v in _snapshot(workdir).items() if k.startswith("checkpoints")}


@settings(DAMAGE_SETTINGS, max_examples=30)
@given(CHECKPOINT_DAMAGE)
@example(("extra/metadata", "flip", 27.5 / 85, 0x55))  # restored a changed loop position silently (see below)
def test_damaged_checkpoint_fails_evaluate_naming_it_or_restores_exactly(run, copies, capsys, damage):
    workdir = _copy(run, copies)
    damaged = os.path.relpath(_damage_checkpoint(workdir, damage), os.path.join(workdir, "checkpoints", STEP))
    before = _snapshot(workdir)
    code, out, err = _cli(capsys, ["evaluate", "--workdir", workdir])
    after = _snapshot(workdir)
    if code == 0:
        event(f"{damage[1]}: restored (unread bytes)")
        _assert_restores_the_trained_run(run, workdir)
        assert {k: v for k, v in after.items() if k != "evaluations.jsonl"} == before
    else:
        event(f"{damage[1]}: refused")
        assert code == 2 and out == "" and after == before, damaged
        _assert_one_error_line(err, os.path.join(workdir, "checkpoints", STEP))
    shutil.rmtree(os.path.dirname(workdir))


@settings(DAMAGE_SETTINGS, max_examples=20)
@given(CHECKPOINT_DAMAGE)
# extra/metadata is {"epoch": 1, "sums": {}, "count": 0, ...} (85 bytes): this flip turns
# "count" into "co nt", still JSON; before extra had a checksum, the resumed loop raised KeyError('count').
@example(("extra/metadata", "flip", 27.5 / 85, 0x55))
def test_damaged_checkpoint_fails_resume_naming_it_and_keeps_every_checkpoint(run, copies, capsys, damage):
    workdir = _copy(run, copies)
    damaged = os.path.relpath(_damage_checkpoint(workdir, damage), os.path.join(workdir, "checkpoints", STEP))
    before = _snapshot(workdir)
    code, out, err = _cli(capsys, ["train", "mnist_mlp", "--workdir", workdir, "--resume", *_sets()])
    if code == 0:
        event(f"{damage[1]}: resumed (unread bytes)")
        # Already at train.num_steps: nothing trained, so no checkpoint was added or replaced.
        assert _checkpoint_dirs(workdir) == {k: v for k, v in before.items() if k.startswith("checkpoints")}
        _assert_restores_the_trained_run(run, workdir)
    else:
        event(f"{damage[1]}: refused")
        # Nothing written: no new checkpoint, no metrics, no event file.
        assert code == 2 and _snapshot(workdir) == before, damaged
        _assert_one_error_line(err, os.path.join(workdir, "checkpoints", STEP))
    shutil.rmtree(os.path.dirname(workdir))


def test_an_unknown_split_fails_before_any_split_is_evaluated(run, copies, capsys):
    workdir = _copy(run, copies)
    before = _snapshot(workdir)
    code, out, err = _cli(capsys, ["evaluate", "--workdir", workdir, "--split", "validation", "--split", "tset"])
    # Before: validation's record was written to evaluations.jsonl, then 'tset' failed.
    assert (code, out) == (2, "") and _snapshot(workdir) == before
    _assert_one_error_line(err, "unknown split 'tset' for mnist5k; valid splits: train, validation, test")


def test_a_damaged_checkpoint_is_one_stderr_line_from_the_real_command(run, copies, data_dir):
    # Only a real process shows what Python prints for orbax's abandoned reads (pytest collects
    # them in-process): tracebacks of RuntimeError('Event loop is closed') around the error line.
    workdir = _copy(run, copies)
    for i in range(3):  # the arrays' files: the first read to fail abandons the others
        _damage_checkpoint(workdir, (i, "flip", 0.0, 0xAA))
    before = _snapshot(workdir)
    done = subprocess.run([sys.executable, "-m", "jaxdl", "evaluate", "--workdir", workdir], capture_output=True,
                          text=True, env={**os.environ, "JAXDL_DATA_DIR": data_dir})
    assert (done.returncode, done.stdout) == (2, "") and _snapshot(workdir) == before
    _assert_one_error_line(done.stderr, f"cannot read checkpoint {os.path.join(workdir, 'checkpoints', STEP)}")
