"""Random and quasi-random search: distributions, reproducible draws, chunk-independent members."""

import csv

import numpy as np
import pytest

from jaxdl import cli, experiments, sweep
from jaxdl.sweep import search
from tests.sweep.test_runner import _close, _config, _member, _single

SPACE = {"optimizer.learning_rate": "loguniform(1e-4,1e-1)", "model.init_scale": "uniform(0.5,2)",
         "model.kernel_init": "choice(lecun_normal,he_normal)"}


@pytest.mark.parametrize("method", search.METHODS)
def test_draws_follow_the_distributions_and_the_seed(method):
    config = experiments.get_config("mnist_mlp")
    space = {**SPACE, "optimizer.schedule.warmup_steps": "intuniform(0,3)"}
    members = sweep.members(config, [0, 1], {}, space, 64, method, search_seed=5)
    assert [m["member"] for m in members] == list(range(128))
    first, second = members[:64], members[64:]  # seeds outermost, the same points for each seed
    assert [m["seed"] for m in first] == [0] * 64 and [m["seed"] for m in second] == [1] * 64
    assert [{**m, "member": 0, "seed": 0} for m in first] == [{**m, "member": 0, "seed": 0} for m in second]
    lr = np.array([m["optimizer.learning_rate"] for m in first])
    assert lr.min() >= 1e-4 and lr.max() < 1e-1
    # Log-uniform: each decade gets about a third of the points.
    assert all(10 <= np.sum((lr >= lo) & (lr < lo * 10)) <= 32 for lo in (1e-4, 1e-3, 1e-2))
    scale = np.array([m["model.init_scale"] for m in first])
    assert scale.min() >= 0.5 and scale.max() < 2.0
    assert {m["model.kernel_init"] for m in first} == {"lecun_normal", "he_normal"}
    assert {m["optimizer.schedule.warmup_steps"] for m in first} == {0, 1, 2, 3}
    assert all(type(m["optimizer.schedule.warmup_steps"]) is int for m in first)
    again = sweep.members(config, [0, 1], {}, space, 64, method, search_seed=5)
    other = sweep.members(config, [0, 1], {}, space, 64, method, search_seed=6)
    assert again == members and other != members


def test_quasi_random_points_cover_the_space_more_evenly_than_random_ones():
    from scipy.stats import qmc

    discrepancy = {m: qmc.discrepancy(search.unit_points(256, 2, m, seed=0)) for m in search.METHODS}
    assert discrepancy["sobol"] < discrepancy["random"] and discrepancy["halton"] < discrepancy["random"]


def test_search_crosses_with_the_grid_and_the_config_seed_is_the_default_search_seed():
    config = experiments.get_config("mnist_mlp")
    grid = {"optimizer.l2": [0.0, 0.1]}
    members = sweep.members(config, [0], grid, {"model.init_scale": "uniform(0.5,2)"}, 3)
    assert [(m["sample"], m["optimizer.l2"]) for m in members] == [(s, l2) for s in range(3) for l2 in (0.0, 0.1)]
    assert members == sweep.members(config, [0], grid, {"model.init_scale": "uniform(0.5,2)"}, 3,
                                    search_seed=config.seed)


@pytest.mark.parametrize("sets, message", [
    (["optimizer.learning_rate=loguniform(0,1)"], "loguniform needs 0 < low < high"),
    (["optimizer.learning_rate=uniform(1,0.5)"], "need finite bounds with low < high"),
    (["optimizer.learning_rate=uniform(1)"], "uniform takes two bounds"),
    (["optimizer.learning_rate=uniform(a,b)"], "uniform bounds must be numbers"),
    (["model.hidden=choice((30,),(100,))"], "'model.hidden' cannot be swept"),
    (["model.kernel_init=uniform(0,1)"], "model.kernel_init is not a number; use choice"),
    (["optimizer.schedule.warmup_steps=uniform(0,10)"], "is an integer; use intuniform"),
    (["optimizer.clip_norm=uniform(-1,1)"], "optimizer.clip_norm must be >= 0 for every member"),
    (["optimizer.clip_value=-1,1", "--samples", "0"], "optimizer.clip_value must be >= 0 for every member"),
    (["optimizer.learning_rate=loguniform(1e-4,1e-1)", "--samples", "0"], "distributions need --samples N"),
    (["optimizer.learning_rate=0.1", "--samples", "4"], "--samples needs a distribution"),
    (["optimizer.learning_rate=uniform(0.1,1)", "--samples", "4", "--search", "grid"], "invalid choice: 'grid'"),
])
def test_bad_searches_are_one_line_errors_before_any_work(tmp_path, capsys, sets, message):
    argv = ["sweep", "mnist_mlp", "--workdir", str(tmp_path / "w"), "--set", sets[0], *sets[1:]]
    if "--samples" not in argv:
        argv += ["--samples", "4"]
    try:
        code = cli.main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and message in lines[-1] and (len(lines) == 1 or lines[0].startswith("usage:"))
    assert not (tmp_path / "w").exists()


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_search_is_independent_of_chunking_and_members_equal_their_single_runs(tmp_path, data_dir):
    config = _config(data_dir, "mnist_mlp", "train.epochs=1")
    runs = {c: sweep.run(config, seeds=2, samples=3, space=SPACE, search="halton", search_seed=11, chunk_size=c,
                         num_devices=1, keep_params=True, live=False, workdir=str(tmp_path / f"c{c}"))
            for c in (6, 4)}
    whole, chunked = _read_csv(tmp_path / "c6" / "results.csv"), _read_csv(tmp_path / "c4" / "results.csv")
    assert len(whole) == 6 and whole[0].keys() == chunked[0].keys()
    swept = ["member", "seed", "sample", *SPACE]
    assert set(swept) <= whole[0].keys()
    assert [[r[k] for k in swept] for r in whole] == [[r[k] for k in swept] for r in chunked]
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(float(a["final_validation_loss"]), float(b["final_validation_loss"]), rtol=1e-4)
    # A drawn member is the single run with --set key=value for each of its drawn values.
    row = runs[4].rows[4]
    single = _single(tmp_path, _config(data_dir, "mnist_mlp", "train.epochs=1", f"seed={row['seed']}",
                                       *(f"{k}={row[k]}" for k in SPACE)), "single")
    _, params = _member(runs[4], member=row["member"])
    _close(row, single, params, single.state.params)
