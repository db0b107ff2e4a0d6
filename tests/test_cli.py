"""Config overrides and the command line: bad input fails at once, naming what is valid."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from jaxdl import cli, config as config_lib, experiments, models, tasks


def test_overrides_are_parsed_to_the_existing_type():
    c = config_lib.apply_overrides(
        experiments.get_config("mnist_mlp"),
        ["optimizer.learning_rate=0.5", "model.hidden=(64, 32)", "data.on_device=false",
         "seed=3", "optimizer.name=sgd", "model.hidden=[10]", "optimizer.l2=1"],
    )
    assert c.optimizer.learning_rate == 0.5 and c.seed == 3 and c.optimizer.name == "sgd"
    assert c.model.hidden == (10,) and c.data.on_device is False
    assert c.optimizer.l2 == 1.0 and isinstance(c.optimizer.l2, float)
    assert experiments.get_config("mnist_mlp").optimizer.learning_rate == 1e-3  # no mutation


@pytest.mark.parametrize(
    "override, message",
    [
        ("optimizer.lr=0.1", r"unknown config key 'optimizer.lr' \(did you mean optimizer\.l[12]"),
        ("nonsense=1", "unknown config key 'nonsense'; valid keys: data.batch_size, .*, model.dropout_impl, .*, "
                       "seed, task, train.checkpoint_every_steps, .*, train.epochs"),
        ("seed=abc", "--set seed=abc: cannot parse 'abc' as int"),
        ("seed=0.5", r"--set seed=0.5: expected int \(current value 0\)"),
        ("data.on_device=maybe", "expected true or false"),
        ("model.hidden=(1.5,)", "expected a tuple of int"),
        ("seed", "--set expects key=value"),
    ],
)
def test_bad_overrides_name_what_is_valid(override, message):
    with pytest.raises(ValueError, match=message):
        config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [override])


def test_unknown_experiment_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown experiment 'mnist_cn' \(did you mean mnist_cnn"
                       r".*valid experiments: mnist_cnn, mnist_mlp, nielsen_ch1"):
        experiments.get_config("mnist_cn")


@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_every_experiment_builds_its_model_and_optimizer(name):
    from jaxdl.tasks import losses
    from jaxdl.train import optimizers
    config = experiments.get_config(name)
    assert config.experiment == name and experiments.describe(name)
    assert config.task in tasks.TASKS and config.model.name in models.model_names(config.task)
    if config.model.get("pretrained"):
        from jaxdl.data import glove

        if not glove.available():
            pytest.skip(f"{name} needs {glove.tarball_path()} ({glove.HOW_TO_GET})")
    tasks.make(config)
    if "loss" in config:  # classification's per-example cost; other tasks define their own loss
        losses.make_loss(config.loss.name, config.loss.output)
    optimizers.make_optimizer(config.optimizer, total_steps=config.optimizer.schedule.warmup_steps + 100)


def test_cli_errors_are_one_line_and_exit_2(capsys, tmp_path):
    assert cli.main(["train", "nope", "--workdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: unknown experiment 'nope'") and "mnist_cnn" in err
    assert cli.main(["train", "mnist_mlp", "--set", "optimizer.lrate=1", "--workdir", str(tmp_path)]) == 2
    assert "unknown config key 'optimizer.lrate'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # failed before touching the workdir


def test_cli_missing_public_dataset_fails_fast(capsys, tmp_path):
    start = time.perf_counter()
    code = cli.main(["train", "mnist_mlp", "--set", "data.name=mnist", "--set",
                     f"data.data_dir={tmp_path}", "--workdir", str(tmp_path / "run")])
    assert code == 2 and time.perf_counter() - start < 5
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
