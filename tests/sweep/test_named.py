"""jaxdl sweep NAME: a named sweep writes its results, curves and plots; unknown names are refused."""

import json

import pytest

from jaxdl import cli


@pytest.mark.slow
def test_cli_sweep_writes_results_and_plots(tmp_path, data_dir, capsys):
    workdir = tmp_path / "sweep"
    assert cli.main(["sweep", "nielsen_init", "--seeds", "2", "--workdir", str(workdir),
                     "--set", f"data.data_dir={data_dir}", "--set", "train.epochs=2"]) == 0
    rows = [json.loads(line) for line in (workdir / "results.jsonl").read_text().splitlines()]
    assert [(r["seed"], r["model.kernel_init"]) for r in rows] == [
        (0, "normal"), (0, "scaled_normal"), (1, "normal"), (1, "scaled_normal")]
    assert (workdir / "results.csv").read_text().splitlines()[0].startswith("member,seed,model.kernel_init")
    curves = [json.loads(line) for line in (workdir / "curves.jsonl").read_text().splitlines()]
    assert len(curves) == 4 * 2 * 3  # members x epochs x (train, validation, test)
    assert {p.name for p in workdir.glob("*.png")} >= {"curves.png"}
    out = capsys.readouterr().out
    assert "4 members (0 diverged)" in out and "model-steps/s" in out
    assert cli.main(["sweep", "nielsen_initt"]) == 2
    assert "unknown experiment 'nielsen_initt'" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_search_writes_every_drawn_value(tmp_path, data_dir):
    from jaxdl import config as config_lib, experiments, sweep

    workdir = tmp_path / "search"
    sets = [f"data.data_dir={data_dir}", "train.epochs=1", "data.max_train_examples=256", "train.num_devices=1",
            "optimizer.learning_rate=loguniform(1e-4,1e-1)", "model.init_scale=uniform(0.5,2)"]
    assert cli.main(["sweep", "mnist_mlp", "--samples", "14", "--search", "sobol", "--search-seed", "3",
                     "--workdir", str(workdir), *(a for s in sets for a in ("--set", s))]) == 0
    rows = [json.loads(line) for line in (workdir / "results.jsonl").read_text().splitlines()]
    config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), sets[:4])
    space = dict(s.split("=", 1) for s in sets[4:])
    expected = sweep.members(config, [0], {}, space, 14, "sobol", search_seed=3)
    assert [{k: r[k] for k in expected[0]} for r in rows] == expected
    assert (workdir / "results.csv").read_text().splitlines()[0].startswith(
        "member,seed,sample,optimizer.learning_rate,model.init_scale,")
    recorded = json.loads((workdir / "sweep.json").read_text())["sweep"]["search"]
    assert recorded == {"samples": 14, "method": "sobol", "seed": 3, "space": {
        "optimizer.learning_rate": "loguniform(0.0001,0.1)", "model.init_scale": "uniform(0.5,2.0)"}}
    # 14 distinct values per key: one line per key's plot, no heat map of 14 x 14 cells.
    plots = {"curves.png", "validation_accuracy_vs_optimizer.learning_rate.png",
             "validation_accuracy_vs_model.init_scale.png"}
    assert {p.name for p in workdir.glob("*.png")} == plots
