"""Resumable sweeps: killed (SIGKILL inside a chunk or between chunks) or preempted (SIGTERM: exit 0) and
resumed, a sweep writes results and curves byte-equal to an uninterrupted one; another sweep is refused.

4 members (2 seeds x 2 learning rates), 2 per compiled call, 3 epochs: chunk 0 checkpoints at sweep
epochs 1 and 2 and appends its rows after epoch 3; chunk 1 checkpoints at epochs 4 and 5.
"""

import json
import os
import signal
import subprocess
import sys

import pytest

from jaxdl import cli, experiments, sweep
from jaxdl.sweep import resume
from tests.helpers import JAXDL_SIGNALLING_ITSELF, SWEEP_SIGNALLING_ITSELF

SETS = ["train.epochs=3", "data.max_train_examples=256", "data.batch_size=64", "model.dropout=0.2",
        "optimizer.learning_rate=0.001,0.003"]
FLAGS = ["--seeds", "2", "--chunk-size", "2", "--devices", "2"]
WRITTEN = ("results.csv", "results.jsonl", "curves.jsonl")


def _args(data_dir, workdir, *extra):
    sets = [a for s in [f"data.data_dir={data_dir}", *SETS] for a in ("--set", s)]
    return ["sweep", "mnist_mlp", *FLAGS, *sets, "--workdir", str(workdir), *extra]


@pytest.fixture(scope="module")
def straight(tmp_path_factory, data_dir):
    """The workdir of the uninterrupted sweep."""
    workdir = tmp_path_factory.mktemp("sweep") / "straight"
    assert cli.main(_args(data_dir, workdir)) == 0
    return workdir


def _start(data_dir, workdir, *extra, program=("-m", "jaxdl"), signal_name="", at_step=0):
    env = dict(os.environ, CI="true", SIGNAL_AFTER_SAVE=signal_name, SIGNAL_AT_STEP=str(at_step))
    return subprocess.Popen([sys.executable, *program, *_args(data_dir, workdir, *extra)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _rows(workdir):
    with open(workdir / "results.jsonl") as f:
        return [json.loads(line) for line in f]


def _checkpoints(workdir):
    return sorted(int(d) for d in os.listdir(workdir / "checkpoints") if d.isdigit())


def _assert_same_files(workdir, straight):
    for name in WRITTEN:
        assert (workdir / name).read_bytes() == (straight / name).read_bytes(), name
    assert not (workdir / "checkpoints").exists()  # a finished sweep drops its mid-chunk states


@pytest.mark.slow
@pytest.mark.parametrize("where", ["inside_a_chunk", "between_chunks"])
def test_sigkill_then_resume_writes_what_an_uninterrupted_sweep_does(tmp_path, data_dir, straight, where):
    workdir = tmp_path / "killed"
    if where == "inside_a_chunk":  # after chunk 1's first checkpoint (sweep epoch 4)
        victim = _start(data_dir, workdir, program=("-c", JAXDL_SIGNALLING_ITSELF), signal_name="SIGKILL",
                        at_step=4)
    else:  # right after chunk 0's rows were appended
        victim = _start(data_dir, workdir, program=("-c", SWEEP_SIGNALLING_ITSELF), signal_name="SIGKILL")
    assert victim.wait(timeout=300) == -signal.SIGKILL
    assert [r["member"] for r in _rows(workdir)] == [0, 1]  # chunk 0 finished, chunk 1 not
    if where == "inside_a_chunk":
        assert _checkpoints(workdir)[-1] == 4
    else:  # none of chunk 1 (chunk 0's last save may still have been in flight)
        assert all(step <= 2 for step in _checkpoints(workdir))
    assert not (workdir / "results.csv").exists()

    resumed = _start(data_dir, workdir, "--resume")
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert "4 members (0 diverged)" in out
    _assert_same_files(workdir, straight)


@pytest.mark.slow
def test_sigterm_saves_exits_0_and_resume_writes_what_an_uninterrupted_sweep_does(tmp_path, data_dir, straight):
    workdir = tmp_path / "preempted"
    proc = _start(data_dir, workdir, program=("-c", JAXDL_SIGNALLING_ITSELF), signal_name="SIGTERM", at_step=4)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "preempted after 2 members" in out and "--resume" in out
    assert _checkpoints(workdir)[-1] == 5  # the epoch under way when SIGTERM came was finished and saved
    resumed = _start(data_dir, workdir, "--resume")
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    _assert_same_files(workdir, straight)


def test_in_process_preemption_and_a_row_cut_short_resume_exactly(tmp_path, data_dir, straight, monkeypatch):
    """sweep.run: SIGTERM (from inside, after chunk 1's first checkpoint) returns `preempted`; a chunk's row
    cut short by a kill mid-append is dropped and its chunk trained again; the resumed sweep equals straight."""
    config, grid = sweep.parse_sets(experiments.get_config("mnist_mlp"), [f"data.data_dir={data_dir}", *SETS])
    kwargs = dict(seeds=2, grid=grid, chunk_size=2, num_devices=2, workdir=str(tmp_path), live=False)
    save = resume.SweepStore.save

    def save_then_sigterm(self, step, state, extra):
        save(self, step, state, extra)
        if step == 4:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(resume.SweepStore, "save", save_then_sigterm)
    preempted = sweep.run(config, **kwargs)
    assert preempted.preempted and [r["member"] for r in preempted.rows] == [0, 1]
    monkeypatch.setattr(resume.SweepStore, "save", save)
    with open(tmp_path / "results.jsonl", "a") as f:
        f.write(json.dumps(_rows(straight)[2])[:40])  # chunk 1's first row, cut short
    resumed = sweep.run(config, resume=True, **kwargs)
    assert not resumed.preempted and len(resumed.rows) == 4
    _assert_same_files(tmp_path, straight)


@pytest.mark.parametrize("change, named", [
    (["--seeds", "3"], "seeds: [0, 1] (workdir) vs [0, 1, 2] (now)"),
    (["--chunk-size", "4"], "chunk_size: 2 (workdir) vs 4 (now)"),
    (["--set", "optimizer.learning_rate=0.001,0.01"], "grid.optimizer.learning_rate"),
    (["--set", "model.hidden=(50,)"], "config.model.hidden"),
    (["--set", "train.epochs=4"], "config.train.epochs"),
    (["--data-order", "shared"], "data_order"),
    (["--samples", "2", "--set", "model.init_scale=uniform(0.5,2)"], "search"),
])
def test_resuming_another_sweep_is_refused_in_one_line(data_dir, straight, capsys, change, named):
    before = {name: (straight / name).read_bytes() for name in WRITTEN}
    capsys.readouterr()
    assert cli.main(_args(data_dir, straight, "--resume", *change)) == 2  # the later flag or --set wins
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds another sweep" in err and named in err, err
    assert {name: (straight / name).read_bytes() for name in WRITTEN} == before


def test_a_fresh_sweep_into_an_unfinished_one_is_refused(tmp_path, data_dir, capsys):
    (tmp_path / "checkpoints").mkdir()
    assert cli.main(_args(data_dir, tmp_path)) == 2
    assert "--resume" in capsys.readouterr().err


def test_resume_without_a_workdir_or_with_keep_params_is_refused(tmp_path, data_dir, capsys):
    args = [a for a in _args(data_dir, "x", "--resume") if a not in ("--workdir", "x")]
    assert cli.main(args) == 2
    assert "--resume needs the --workdir" in capsys.readouterr().err
    with pytest.raises(ValueError, match="keep_params cannot be combined with resume"):
        sweep.run(experiments.get_config("mnist_mlp"), workdir=str(tmp_path), resume=True, keep_params=True)
    assert not os.listdir(tmp_path)
