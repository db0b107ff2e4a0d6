"""`jaxdl export`: a run's inference function through jax.export, reloaded and run on CPU."""

import json
import os
import subprocess
import sys

import chex
import jax
import numpy as np
import pytest

from jaxdl import cli, data
from jaxdl.runs import export, saved
from tests.helpers import experiment_config, experiment_config_or_skip, train_run


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory, data_dir):
    config = experiment_config(data_dir, "mnist_mlp", "train.num_steps=3", "data.max_train_examples=256",
                               "train.keep_best=true")
    parent = tmp_path_factory.mktemp("export")
    train_run(parent, config)
    return str(parent / "run")


def _images(n, seed):
    return np.random.default_rng(seed).uniform(0, 1, (n, 28, 28, 1)).astype(np.float32)


def test_export_reloaded_in_a_fresh_process_equals_apply(mlp_run, tmp_path):
    assert cli.main(["export", "--workdir", mlp_run]) == 0
    folder = os.path.join(mlp_run, "export")
    with open(os.path.join(folder, "export.json")) as f:
        info = json.load(f)
    assert info["experiment"] == "mnist_mlp" and info["step"] == 3 and not info["best"]
    assert info["platforms"] == ["cpu", "cuda", "tpu"]
    assert info["input"] == {"shape": ["b", 28, 28, 1], "dtype": "float32"}
    assert info["output"] == {"shape": ["b", 10], "dtype": "float32"}
    np.save(tmp_path / "x.npy", _images(5, 0))
    # A fresh interpreter: only the exported folder, no model built from the config.
    program = (f"import numpy as np; from jaxdl.runs import export; "
               f"np.save({str(tmp_path / 'y.npy')!r}, export.load({folder!r})(np.load({str(tmp_path / 'x.npy')!r})))")
    subprocess.run([sys.executable, "-c", program], check=True, env={**os.environ, "JAX_PLATFORMS": "cpu"},
                   cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    _, model, state = saved.restore(mlp_run)
    chex.assert_trees_all_close(np.load(tmp_path / "y.npy"), model.apply(state.params, _images(5, 0)),
                                rtol=1e-5, atol=1e-6)


def test_export_best_to_out_with_any_batch_size(mlp_run, tmp_path):
    out = str(tmp_path / "best_export")
    line = export.export(mlp_run, best=True, platforms=["cpu"], out=out)
    assert "(best)" in line and out in line
    infer = export.load(out)
    _, model, state = saved.restore(mlp_run, best=True)
    for n in (1, 7):  # the batch axis is symbolic
        chex.assert_trees_all_close(infer(_images(n, n)), model.apply(state.params, _images(n, n)),
                                    rtol=1e-5, atol=1e-6)
    # Exporting again replaces the export; the params are an argument, not baked into the program.
    export.export(mlp_run, best=True, platforms=["cpu"], out=out)
    assert os.path.getsize(os.path.join(out, export.PROGRAM)) < os.path.getsize(os.path.join(out, export.PARAMS))
    exported = jax.export.deserialize(bytearray(open(os.path.join(out, export.PROGRAM), "rb").read()))
    assert exported.platforms == ("cpu",)


def test_bad_input_is_one_line_and_exit_2(mlp_run, tmp_path, capsys):
    assert cli.main(["export", "--workdir", str(tmp_path / "nothing")]) == 2
    assert "holds no run" in capsys.readouterr().err
    assert cli.main(["export", "--workdir", mlp_run, "--platforms", "cpu,gpu"]) == 2
    err = capsys.readouterr().err
    assert "'gpu'" in err and "cuda" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert cli.main(["export", "--workdir", mlp_run, "--out", str(tmp_path / "other")]) == 2
    assert "other than an export" in capsys.readouterr().err
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    # A task whose inference is not one apply: refused from its config.json alone, before a restore.
    (tmp_path / "seq2seq").mkdir()
    (tmp_path / "seq2seq" / "config.json").write_text(json.dumps({"experiment": "seq2seq_reverse"}))
    assert cli.main(["export", "--workdir", str(tmp_path / "seq2seq")]) == 2
    assert "is a seq2seq run" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("name, overrides", [("diamonds_embeddings", ["data.batch_size=16"]),  # a dict of inputs
                                             ("char_rnn", ["model.hidden=32", "data.batch_size=8"])])  # token ids
def test_export_of_other_tasks_equals_apply(name, overrides, tmp_path, data_dir):
    config = experiment_config_or_skip(data_dir, name, "train.num_steps=1", "train.eval_splits=('validation',)",
                                       "data.max_train_examples=64", *overrides)
    train_run(tmp_path, config)
    workdir = str(tmp_path / "run")
    export.export(workdir, platforms=["cpu", "tpu"])
    infer = export.load(os.path.join(workdir, "export"))
    _, model, state = saved.restore(workdir)
    x = export.model_input(config, model, data.load_arrays(config.data.name, "validation", data_dir=data_dir,
                                                             max_examples=3))
    chex.assert_trees_all_close(infer(x), model.apply(state.params, x), rtol=1e-5, atol=1e-6)
