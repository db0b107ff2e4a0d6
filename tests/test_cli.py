"""The jaxdl command line: bad input fails at once as one line naming what is valid; list, show, train, plot."""

import json
import os
import subprocess
import sys

import numpy as np

from jaxdl import cli, experiments


def test_cli_errors_are_one_line_and_exit_2(capsys, tmp_path):
    assert cli.main(["train", "nope", "--workdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: unknown experiment 'nope'") and "mnist_cnn" in err
    assert cli.main(["train", "mnist_mlp", "--set", "optimizer.lrate=1", "--workdir", str(tmp_path)]) == 2
    assert "unknown config key 'optimizer.lrate'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # failed before touching the workdir


def test_cli_missing_public_dataset_fails_before_compiling(capsys, tmp_path, monkeypatch):
    from jaxdl.train import steps

    def no_step(*args, **kwargs):
        raise AssertionError("a train step was built for a run whose dataset is missing")

    monkeypatch.setattr(steps, "make_train_step", no_step)
    code = cli.main(["train", "mnist_mlp", "--set", "data.name=mnist", "--set",
                     f"data.data_dir={tmp_path}", "--workdir", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "mnist" in err and "jaxdl prepare mnist" in err and "mnist5k" in err


def test_cli_show_prints_the_overridden_config(capsys):
    assert cli.main(["show", "nielsen_ch1", "--set", "optimizer.learning_rate=1.5"]) == 0
    out = capsys.readouterr().out
    assert "learning_rate: 1.5" in out and "name: quadratic" in out


def test_cli_list_and_train_in_a_subprocess(tmp_path, data_dir):
    env_cmd = [sys.executable, "-m", "jaxdl"]
    listing = subprocess.run(env_cmd + ["list"], capture_output=True, text=True, check=True).stdout
    for name in list(experiments.EXPERIMENTS) + ["mnist5k", "fashion_mnist_debian", "mnist"]:
        assert name in listing
    run = subprocess.run(
        env_cmd + ["train", "mnist_mlp", "--workdir", str(tmp_path / "run"),
                   "--set", "train.num_steps=5", "--set", f"data.data_dir={data_dir}"],
        capture_output=True, text=True, env={"CI": "true", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stdout + run.stderr  # no bar redraws when not on a terminal
    assert "mnist_mlp: validation accuracy" in run.stdout
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["num_steps"] == 5


def test_cli_plot_draws_the_learning_curves_of_a_run(tmp_path, data_dir, capsys):
    import matplotlib.image

    workdir = tmp_path / "run"
    assert cli.main(["plot", "--workdir", str(workdir)]) == 2
    assert "holds no run" in capsys.readouterr().err
    assert cli.main(["train", "mnist_mlp", "--workdir", str(workdir), "--set", f"data.data_dir={data_dir}",
                     "--set", "train.epochs=2"]) == 0
    assert cli.main(["plot", "--workdir", str(workdir)]) == 0
    image = matplotlib.image.imread(workdir / "learning_curves.png")
    assert image.shape[:2] == (400, 1000) and len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 50


def test_the_command_caches_compiled_programs_small_ones_too_unless_turned_off(monkeypatch, tmp_path):
    names = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
             "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")
    for name in names:  # set first, so the monkeypatch restores each (what the command sets goes too)
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("JAXDL_COMPILATION_CACHE", "")
    cli._enable_compilation_cache()
    assert not any(name in os.environ for name in names)
    monkeypatch.setenv("JAXDL_COMPILATION_CACHE", str(tmp_path))
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "2")  # a user's own setting stays
    cli._enable_compilation_cache()
    assert [os.environ[name] for name in names] == [str(tmp_path), "2", "0"]
