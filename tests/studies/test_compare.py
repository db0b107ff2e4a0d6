"""`jaxdl compare`: variants x seeds trained as sweeps, tabulated."""

import json

import numpy as np
import pytest

from jaxdl import cli
from jaxdl.experiments import comparisons
from jaxdl.studies import compare


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
