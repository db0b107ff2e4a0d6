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
