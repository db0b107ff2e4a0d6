"""`jaxdl compare`: variants x seeds trained as sweeps, tabulated; the regularisation comparison's configs."""

import json

import numpy as np
import pytest

from jaxdl import cli, config as config_lib, experiments
from jaxdl.experiments import comparisons
from jaxdl.studies import compare


def test_regularisation_variants_are_nielsen_ch3_784_100_10_with_one_regulariser_each():
    spec = comparisons.COMPARISONS["nielsen_regularisation"]
    configs = {label: config_lib.apply_overrides(experiments.get_config(spec.experiment), sets)
               for label, sets in spec.variants.items()}
    for label, c in configs.items():
        assert c.model.hidden == (100,) and c.loss.name == "cross_entropy" and c.optimizer.name == "sgd"
        active = {"L1": c.optimizer.l1 > 0, "L2": c.optimizer.l2 > 0, "dropout": c.model.dropout > 0}
        assert [k for k, on in active.items() if on] == ([] if label == "none" else [label.split()[0]])
    np.testing.assert_allclose(configs["L2 (lambda=5, n=3500)"].optimizer.l2, 5 / 3500)
    assert configs["L2 (lambda/n=1e-4)"].optimizer.l2 == configs["L1 (lambda/n=1e-4)"].optimizer.l1 == 1e-4


@pytest.mark.slow
def test_compare_writes_a_table_over_seeds(tmp_path, data_dir, monkeypatch, capsys):
    monkeypatch.setitem(comparisons.COMPARISONS, "tiny", comparisons.Comparison(
        "mnist_softmax_no_hidden", "two variants", {"none": (), "L1 big": ("optimizer.l1=0.01",)}, seeds=2))
    sets = [f"data.data_dir={data_dir}", "train.epochs=2", "data.max_train_examples=300"]
    assert cli.main(["compare", "tiny", "--workdir", str(tmp_path), *[a for s in sets for a in ("--set", s)]]) == 0
    out = capsys.readouterr().out
    assert "| none |" in out and "| L1 big |" in out
    with open(tmp_path / "table.json") as f:
        table = json.load(f)
    assert [v["variant"] for v in table["variants"]] == ["none", "L1 big"]
    for v in table["variants"]:
        for column in compare.COLUMNS:
            values = v[column]["values"]
            assert len(values) == 2 and all(0 < a <= 1 for a in values)
            np.testing.assert_allclose(v[column]["mean"], np.mean(values))
    with open(tmp_path / "l1_big" / "config.json") as f:
        assert json.load(f)["optimizer"]["l1"] == 0.01
    assert (tmp_path / "table.md").read_text().count("\n| ") == 3  # header + 2 variants
    with pytest.raises(ValueError, match="unknown comparison 'nope'; valid comparisons: nielsen_regularisation, mf_"):
        compare.run("nope", str(tmp_path))
