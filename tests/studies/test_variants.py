"""Variants of one experiment trained one after another and tabulated (jaxdl.studies.variants)."""

import dataclasses
import json
import shutil

import chex
import numpy as np
import pytest

from jaxdl.experiments import comparisons
from jaxdl.studies import compare, variants as compare_runs


@pytest.mark.slow
def test_compare_runs_each_variant_and_tabulates(tmp_path, data_dir):
    rows = compare_runs.run("movielens_mf", {"gd": ["optimizer.name=sgd_scratch", "optimizer.learning_rate=10.0"],
                                        "adagrad": ["optimizer.name=adagrad_scratch",
                                                    "optimizer.learning_rate=0.1"]},
                       str(tmp_path), [f"data.data_dir={data_dir}", "train.epochs=1",
                                       "data.max_train_examples=10000", "data.batch_size=1000"])
    text = compare_runs.table(rows, "rmse")
    assert [r["label"] for r in rows] == ["gd", "adagrad"]
    assert "| gd |" in text and "| adagrad |" in text
    assert rows[0]["best"]["validation"]["rmse"] != rows[1]["best"]["validation"]["rmse"]


def test_table_reports_the_selected_states_test_metric_and_its_seed():
    final = {"validation": {"rmse": 0.8766}, "test": {"rmse": 0.8594}}
    best = {"validation": {"rmse": 0.8762}, "test": {"rmse": 0.8599}}
    rows = [{"label": "mf", "overrides": "", "seed": 3, "seconds": 8.0, "final": final, "best_epoch": 4,
             "best": best}]
    line = compare_runs.table(rows, "rmse").splitlines()[-1]
    assert line.startswith("| mf | 0.8762 | 0.8599 | 4 | 3 |")  # validation and test of epoch 4, seed 3
    assert "0.8594" not in line


def test_seed_table_gives_mean_and_sd_of_each_seeds_selected_state():
    def run(seed, val, test, final_test):
        return {"label": "v", "seed": seed, "best_epoch": 2,
                "best": {"validation": {"nll": val}, "test": {"nll": test}},
                "final": {"validation": {"nll": val + 1}, "test": {"nll": final_test}}}

    rows = [{"label": "v", "overrides": "model.init=torch_default",
             "runs": [run(0, 10.0, 11.0, 99.0), run(1, 12.0, 13.0, 99.0)]}]
    line = compare_runs.seed_table(rows, "nll").splitlines()[-1]
    assert line.startswith("| v | 11.0000 ± 1.0000 | 12.0000 ± 1.0000 | 11.0000 / 13.0000 | 2 | 2 / 2 |")
    assert "99" not in line


@pytest.mark.slow
def test_runs_comparison_over_seeds_trains_each_seed_and_tabulates_its_mean(tmp_path, data_dir, monkeypatch):
    monkeypatch.setitem(comparisons.COMPARISONS, "tiny_runs", comparisons.Comparison(
        "movielens_mf", "two variants over two seeds", {"adam": (), "gd": ("optimizer.name=sgd_scratch",)},
        seeds=2, by="runs", metric="rmse",
        overrides=(f"data.data_dir={data_dir}", "train.epochs=1", "data.max_train_examples=5000")))
    table = compare.run("tiny_runs", str(tmp_path))
    assert [r["label"] for r in table["rows"]] == ["adam", "gd"] and table["seeds"] == 2
    for row in table["rows"]:
        assert [run["seed"] for run in row["runs"]] == [0, 1]
    with open(tmp_path / "seed1" / "gd" / "config.json") as f:
        assert json.load(f)["seed"] == 1
    tests = [run["best"]["test"]["rmse"] for run in table["rows"][0]["runs"]]
    assert f"{np.mean(tests):.4f} ± {np.std(tests):.4f}" in (tmp_path / "table.md").read_text()


def _compare_argv(tmp_path, data_dir, *extra):
    sets = [f"data.data_dir={data_dir}", "train.epochs=2", "data.max_train_examples=256",
            "train.checkpoint_every_steps=2"]
    return ["compare", "mnist_mlp", "--variant", "slow:optimizer.learning_rate=0.0001",
            "--variant", "fast:optimizer.learning_rate=0.01",
            "--workdir", str(tmp_path), *[a for s in sets for a in ("--set", s)], *extra]


def test_a_comparison_interrupted_then_resumed_equals_the_uninterrupted_one(tmp_path, data_dir, capsys):
    from jaxdl import cli
    from jaxdl.runs import saved

    assert cli.main(_compare_argv(tmp_path / "straight", data_dir)) == 0
    assert cli.main(_compare_argv(tmp_path / "cut", data_dir)) == 0
    # Cut short as a killed study leaves it: the first run finished, the second stopped after
    # its step-2 checkpoint (its later ones gone), no table yet.
    ckpts = tmp_path / "cut" / "fast" / "checkpoints"
    for step in [d.name for d in ckpts.iterdir() if d.name.isdigit() and int(d.name) > 2]:
        shutil.rmtree(ckpts / step)
    for name in ("table.json", "table.md"):
        (tmp_path / "cut" / name).unlink()
    capsys.readouterr()
    assert cli.main(_compare_argv(tmp_path / "cut", data_dir, "--resume")) == 0
    assert "| slow |" in capsys.readouterr().out

    def rows(workdir):
        with open(workdir / "table.json") as f:
            return [{k: v for k, v in r.items() if k != "seconds"} for r in json.load(f)["rows"]]

    assert rows(tmp_path / "cut") == rows(tmp_path / "straight")
    for label in ("slow", "fast"):
        chex.assert_trees_all_equal(saved.restore(tmp_path / "cut" / label)[2].params,
                                    saved.restore(tmp_path / "straight" / label)[2].params)


def test_a_preempted_run_stops_the_comparison_naming_how_to_continue(tmp_path, data_dir, capsys, monkeypatch):
    from jaxdl import cli
    from jaxdl.train import loop

    train = loop.train

    def preempted_train(config, workdir, **kwargs):  # the first run gets SIGTERM after a checkpoint
        return dataclasses.replace(train(config, workdir, **kwargs), preempted=True)

    monkeypatch.setattr(loop, "train", preempted_train)
    assert cli.main(_compare_argv(tmp_path, data_dir)) == 0
    out = capsys.readouterr().out
    assert f"preempted in {tmp_path / 'slow'}" in out and f"--resume --workdir {tmp_path}" in out
    assert not (tmp_path / "fast").exists() and not (tmp_path / "table.json").exists()


def test_resume_without_a_workdir_is_one_line_exit_2(capsys):
    from jaxdl import cli

    assert cli.main(["compare", "mnist_mlp", "--variant", "a:optimizer.learning_rate=0.01", "--resume"]) == 2
    assert cli.main(["studies", "original_code", "--resume"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["jaxdl: error: --resume needs the --workdir of the comparison to continue",
                   "jaxdl: error: --resume needs the --workdir of the study to continue"]
