"""Variants of one experiment trained one after another and tabulated (jaxdl.studies.variants)."""

import pytest

from jaxdl.studies import variants as compare_runs


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
