"""Smoke tests of benchmarks/: they run at tiny sizes and report what they should (never speed)."""

import importlib.util
import json
import pathlib
import re
import time

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


@pytest.fixture
def bench_run(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import run

    return run


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


# Tiny sizes: ~30 s with a warm compilation cache (2-core CPU); it checks the table, not speed.
@pytest.mark.slow
def test_run_small_reports_every_row(bench_run, tmp_path, data_dir, capsys):
    result = bench_run.main(["--small", "--data-dir", data_dir, "--out", str(tmp_path)])

    assert json.loads((tmp_path / "bench_cpu_small.json").read_text()) == json.loads(json.dumps(result))
    assert result["small"] and result["backend"] == "cpu" and result["peak_flops"]["peak"] > 0
    rows = {r["row"]: r for r in result["rows"]}
    assert list(rows) == ["mlp", "cnn", "char_lstm", "gpt", "sweep_loop", "sweep_vmap", "mnist_cnn_e2e",
                          "mnist_cnn_e2e_warm", "first_step"]
    torch_installed = importlib.util.find_spec("torch") is not None
    for name, row in rows.items():
        assert row["jaxdl"] > 0, name
        if torch_installed:
            assert row["torch"] > 0, name
            expected = row["jaxdl"] / row["torch"] if row["higher_is_better"] else row["torch"] / row["jaxdl"]
            assert row["speedup"] == pytest.approx(expected)
            if name in ("mlp", "cnn", "char_lstm", "gpt", "sweep_loop", "sweep_vmap"):  # a second torch process
                assert row["torch_kept"] > 0 and row["speedup_kept"] == pytest.approx(
                    row["jaxdl"] / row["torch_kept"]), name
        else:
            assert row["torch"] is None and row["speedup"] is None and row["speedup_kept"] is None
    for name in ("char_lstm", "gpt"):  # jaxdl's own step: a compiled program, model FLOPs, memory
        row = rows[name]
        assert row["unit"] == "tokens/s" and row["flops"] > 0 and row["jaxdl_fraction_of_peak"] > 0, name
        assert row["jaxdl_compile_s"] > 0 and row["jaxdl_footprint_mib"] > 0, name
    assert rows["mlp"]["ceiling"] > 0 and rows["mlp"]["jaxdl_compile_s"] > 0
    for name in ("mnist_cnn_e2e", "mnist_cnn_e2e_warm"):  # fresh `jaxdl train` processes, cache off / on
        assert rows[name]["unit"] == "s" and not rows[name]["higher_is_better"], name
        assert "cache" in rows[name]["workload"] and "jaxdl runs" in rows[name]["note"], name

    printed = capsys.readouterr().out
    table = [line for line in printed.splitlines() if line.startswith("|")]
    assert table == [line for line in (tmp_path / "bench_cpu_small.md").read_text().splitlines()
                     if line.startswith("|")]
    header = _cells(table[0])
    assert header[:7] == ["workload", "unit", "jaxdl", "plain JAX", "PyTorch", "jaxdl vs torch",
                          "vs torch keeping freed memory"]
    assert len(table) == 2 + len(rows)
    for row, line in zip(rows.values(), table[2:]):
        cells = _cells(line)
        assert len(cells) == len(header) and cells[0] == row["workload"]
        assert cells[4] != "" if torch_installed else cells[4] == "not installed"


# Three fresh `jaxdl train` processes and two PyTorch ones: ~30 s (2-core CPU).
@pytest.mark.slow
def test_first_step_row_times_both_commands_to_their_first_step(bench_run, tmp_path, data_dir):
    result = bench_run.main(["--small", "--rows", "first_step", "--data-dir", data_dir, "--out", str(tmp_path)])
    (row,) = result["rows"]
    assert row["row"] == "first_step" and row["unit"] == "s" and not row["higher_is_better"]
    # The first step comes after launch and before the process ends; the note gives the share.
    share = re.search(r"spent ([\d.]+) of its ([\d.]+) s \((\d+)%\) before its first step", row["note"])
    assert 0 < float(share[1]) == pytest.approx(row["jaxdl"], abs=0.01) and float(share[1]) < float(share[2])
    if importlib.util.find_spec("torch") is not None:
        assert row["torch"] > 0 and row["speedup"] == pytest.approx(row["torch"] / row["jaxdl"])


def test_a_turn_is_one_untimed_call_then_timed_ones_and_sides_alternate(benchmarks):
    from benchmarks import measure

    made = []

    def call(name):
        def run():
            made.append(name)
            if made.count(name) % 3 == 1:  # the first call of each turn: slow, and not counted
                time.sleep(0.05)
        return run

    seconds = measure.interleaved_seconds({n: measure.timed_calls(call(n)) for n in "ab"}, repeats=2,
                                          calls_per_turn=2)
    assert made == list("aaabbbbbbaaa")
    assert set(seconds) == {"a", "b"} and all(s < 0.05 for s in seconds.values())


def test_a_torch_process_that_fails_names_its_row(bench_run):
    from benchmarks import torch_worker

    # No such row (or, without torch, no torch): the child exits before its header.
    with pytest.raises(RuntimeError, match="benchmark row 'no_such_row' exited with code 1"):
        torch_worker.TorchProcess("no_such_row", bench_run.sizes_for(True, "cpu"))


def test_fresh_processes_set_malloc_as_their_command_does(benchmarks, monkeypatch):
    from benchmarks import startup

    monkeypatch.setenv("JAXDL_KEEP_FREED_MEMORY", "0")  # as a user may set it in their shell
    env = startup.fresh_env("", "")
    assert "JAXDL_KEEP_FREED_MEMORY" not in env and env["JAXDL_COMPILATION_CACHE"] == ""


def test_run_rejects_unknown_rows(bench_run):
    with pytest.raises(SystemExit):
        bench_run.parse_args(["--rows", "mlp,resnet"])


def test_table_without_torch_says_so(bench_run):
    from benchmarks import workloads

    rows = [workloads.Result("mlp", "MLP", "steps/s", jaxdl=123.4, flops=1e6),
            workloads.Result("mnist_cnn_e2e", "CNN to target", "s", higher_is_better=False)]
    lines = bench_run.table(rows, peak=1e9, torch_ok=False)
    mlp, e2e = (_cells(line) for line in lines[2:])
    assert mlp[2:7] == ["123", "", "not installed", "", ""] and mlp[7] == "12.3%"
    assert e2e[2] == "not reached" and e2e[4] == "not installed" and e2e[7] == ""


@pytest.mark.slow
def test_sweep_scale_rows_report_chunk_memory_and_rate(benchmarks, tmp_path, data_dir):
    out = tmp_path / "scale.json"
    result = benchmarks.main(["--scale", "8", "--base-epochs", "1", "--epochs", "2", "--max-train-examples", "512",
                              "--data-dir", data_dir, "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    (row,) = result["rows"]
    assert row["members"] == 8 and row["chunk_size"] == 8 and row["model_steps"] == 8 * 2 * 4
    assert row["model_steps_per_s"] > 0 and row["peak_rss_gib"] > 0 and len(row["load_average_1_5_15"]) == 3
