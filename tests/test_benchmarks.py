"""Smoke tests of benchmarks/: they run at tiny sizes and report what they should (never speed)."""

import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def benchmarks(monkeypatch):
    # benchmarks/ is a top-level folder of the repo, not part of the installed package.
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import sweep_throughput

    return sweep_throughput


# ~10 s with a warm compilation cache, ~25 s cold (2-core CPU).
@pytest.mark.slow
def test_sweep_throughput_quick_reports_every_method(benchmarks, tmp_path, data_dir, capsys):
    out = tmp_path / "results" / "sweep.json"
    result = benchmarks.main(["--quick", "--data-dir", data_dir, "--out", str(out)])

    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert {"backend", "device", "jax_version", "torch_version", "torch_threads", "members", "epochs",
            "base_epochs", "steps_per_epoch", "sweep_cold_seconds", "sweep_compile_seconds", "rows"} <= result.keys()
    assert result["members"] == 4 and result["train_examples"] == 512 and result["steps_per_epoch"] == 4
    assert result["sweep_cold_seconds"] > 0

    rows = {r["method"]: r for r in result["rows"]}
    assert list(rows) == list(benchmarks.METHODS)
    torch_installed = importlib.util.find_spec("torch") is not None
    for method, row in rows.items():
        if method.startswith("PyTorch") and not torch_installed:
            assert row["model_steps_per_s"] is None and row["note"] == benchmarks.NOT_INSTALLED
            continue
        assert row["model_steps_per_s"] > 0 and row["job_seconds"] > 0
        assert len(row["samples"]) == 1 and all(s > 0 for s in row["samples"])
        assert row["ratio_vs_sequential"] == pytest.approx(row["model_steps_per_s"] /
                                                           rows["jaxdl sequential runs"]["model_steps_per_s"])
    assert rows["jaxdl sequential runs"]["ratio_vs_sequential"] == pytest.approx(1.0)

    printed = capsys.readouterr().out
    table = [line for line in printed.splitlines() if line.startswith("|")]
    assert table[0].startswith("| method | model-steps/s |") and len(table) == 2 + len(benchmarks.METHODS)
    for method, line in zip(benchmarks.METHODS, table[2:]):
        assert line.startswith(f"| {method} |")
    assert f"backend {result['backend']}" in printed
