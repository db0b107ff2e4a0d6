"""`jaxdl studies`: the original code's recipe and jaxdl's default over seeds, beside the original's numbers."""

import importlib.util
import json

import numpy as np
import pytest

from jaxdl import cli, data, experiments
from jaxdl.experiments import studies
from jaxdl.studies import fidelity


def _selected_test_metric(workdir: str, metric: str, select: str, higher_is_better: bool) -> float:
    """From the run's metrics.jsonl: the test `metric` at the best validation evaluation (the first of equals),
    or at the last evaluation."""
    from jaxdl.train import workdir as wd

    rows = wd.read_metrics(workdir)
    validation = [r for r in rows if r["split"] == "validation"]
    sign = -1 if higher_is_better else 1
    chosen = validation[-1] if select == "final" else min(validation, key=lambda r: sign * r[metric])
    [test] = [r for r in rows if r["split"] == "test" and r["step"] == chosen["step"]]
    return test[metric]


@pytest.mark.slow
def test_mlp_row_tables_each_seeds_selected_state_beside_the_original(tmp_path, data_dir, capsys):
    # Adam at 0.05 overshoots: validation accuracy peaks at epoch 2 of 3, so best and final differ.
    sets = [f"data.data_dir={data_dir}", "train.epochs=3", "data.max_train_examples=200",
            "optimizer.learning_rate=0.05"]
    argv = ["studies", "original_code", "--rows", "mlp", "--seeds", "2", "--workdir", str(tmp_path)]
    assert cli.main([*argv, *[a for s in sets for a in ("--set", s)]]) == 0
    assert "| 784-100-10 MLP" in capsys.readouterr().out
    with open(tmp_path / "table.json") as f:
        [row] = json.load(f)["rows"]
    for side, select in (("original_choices", "final"), ("default", "best")):
        assert row[side]["select"] == select
        runs = [str(tmp_path / "mlp" / f"seed{s}" / side) for s in range(2)]
        expected = [_selected_test_metric(run, "accuracy", select, True) for run in runs]
        if select == "best":  # else this test could not tell the selected state from the last
            assert expected != [_selected_test_metric(run, "accuracy", "final", True) for run in runs]
        np.testing.assert_allclose(row[side]["values"], expected, rtol=1e-6)
        np.testing.assert_allclose([row[side]["mean"], row[side]["sd"]], [np.mean(expected), np.std(expected, ddof=1)])
        with open(tmp_path / "mlp" / "seed1" / side / "config.json") as f:
            config = json.load(f)
        # The command line's epochs win over the row's 200; each side keeps its own batch size.
        assert (config["seed"], config["train"]["epochs"]) == (1, 3)
        assert config["data"]["batch_size"] == {"original_choices": 200, "default": 128}[side]
    if importlib.util.find_spec("sklearn") is not None:
        from sklearn.neural_network import MLPClassifier

        train = data.load_arrays("mnist5k", "train", data_dir, max_examples=200)
        test = data.load_arrays("mnist5k", "test", data_dir)
        flat = lambda a: a["image"].reshape(len(a["image"]), -1)
        sklearn = [MLPClassifier((100,), random_state=s).fit(flat(train), train["label"]).score(
            flat(test), test["label"]) for s in range(2)]
        np.testing.assert_allclose(row["original"]["values"], sklearn)
    original, default = row["original"]["mean"], row["default"]["mean"]
    assert row["gap_closed"] == ("yes" if default >= original else f"no, by {100 * (original - default):.2f} points")
    assert (tmp_path / "table.md").read_text().count("\n| ") == 2  # header + the one row


def test_gap_closed_compares_the_default_mean_with_the_originals_in_the_metrics_direction():
    assert fidelity.gap_closed(107.40, 107.50, higher_is_better=False) == "yes"
    assert fidelity.gap_closed(107.50, 107.50, higher_is_better=False) == "yes"
    assert fidelity.gap_closed(108.62, 107.50, higher_is_better=False) == "no, by 1.12"
    assert fidelity.gap_closed(0.8606, 0.983, higher_is_better=False, digits=4) == "yes"
    assert fidelity.gap_closed(0.9293, 0.9340, higher_is_better=True, percent=True) == "no, by 0.47 points"
    assert fidelity.gap_closed(0.9350, 0.9340, higher_is_better=True, percent=True) == "yes"


def test_original_is_its_baseline_run_when_installed_else_the_reference_numbers(monkeypatch):
    row = studies.STUDIES["original_code"].rows["mlp"]
    config = experiments.get_config("mnist_mlp")
    monkeypatch.setitem(fidelity.BASELINES, "sklearn_mlp", ("no_such_module_anywhere", None))
    sklearn_10_seeds = [0.926, 0.939, 0.937, 0.931, 0.937, 0.935, 0.929, 0.942, 0.935, 0.934]
    reference = fidelity._original(row, 3, config)
    assert (reference["source"], reference["final"], reference["values"]) == (
        "reference numbers", True, sklearn_10_seeds)
    np.testing.assert_allclose([reference["mean"], reference["sd"]], [0.9345, 0.00477], atol=1e-5)
    monkeypatch.setitem(fidelity.BASELINES, "sklearn_mlp", ("json", lambda seeds, c: [0.9, 0.92, 0.94][:seeds]))
    ran = fidelity._original(row, 2, config)
    assert ran["source"] == "run here: sklearn_mlp" and ran["values"] == [0.9, 0.92]
    np.testing.assert_allclose([ran["mean"], ran["sd"]], [0.91, 0.02 ** 0.5 / 10])  # sample sd
    vae = fidelity._original(studies.STUDIES["original_code"].rows["vae"], 3, config)
    np.testing.assert_allclose([vae["mean"], vae["sd"]], [107.50, 0.44 / 2 ** 0.5])


@pytest.mark.parametrize("argv, message", [
    (["nope"], "unknown study 'nope'; valid studies: original_code"),
    (["original_code", "--rows", "made,vea"], "study 'original_code' has no row 'vea'; valid rows: made, vae, "),
    (["original_code", "--seeds", "0"], "--seeds must be >= 1, got 0"),
    (["original_code", "--rows", "mlp", "--set", "train.epoch=3"], "unknown config key 'train.epoch'"),
])
def test_bad_input_is_one_line_exit_2_before_anything_is_written(argv, message, tmp_path, capsys):
    workdir = tmp_path / "study"
    assert cli.main(["studies", *argv, "--workdir", str(workdir)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not workdir.exists()


def test_studies_without_a_name_lists_them(capsys):
    assert cli.main(["studies"]) == 0
    assert capsys.readouterr().out.startswith("original_code: issue 23")
