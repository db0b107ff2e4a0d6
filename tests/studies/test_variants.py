"""Variants of one experiment trained one after another and tabulated (jaxdl.studies.variants)."""

import json

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
