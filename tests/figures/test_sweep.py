"""Sweep plots: statistics against hand-computed numbers, and PNGs that really show something."""

import math
import os

import numpy as np
import pytest
from matplotlib import image

from jaxdl.figures import sweep as plots

LR, SCALE, INIT = "optimizer.learning_rate", "model.init_scale", "model.kernel_init"
NAN = math.nan

# (lr, init_scale, seed, final_validation_accuracy, diverged). The diverged member at
# (0.001, 1.0) has a finite accuracy on purpose: divergence alone must exclude it.
TABLE = [
    (0.001, 0.1, 0, 0.5, False),
    (0.001, 0.1, 1, 0.7, False),
    (1.0, 0.1, 0, 0.8, False),
    (1.0, 0.1, 1, NAN, False),
    (0.001, 1.0, 0, 0.6, False),
    (0.001, 1.0, 1, 0.99, True),
    (1.0, 1.0, 0, NAN, True),
    (1.0, 1.0, 1, NAN, True),
]


def _rows(table=TABLE, extra=None):
    rows = []
    for member, (lr, scale, seed, acc, diverged) in enumerate(table):
        rows.append({"member": member, "seed": seed, "batch_size": 32, LR: lr, SCALE: scale,
                     "diverged": diverged, "final_train_accuracy": acc,
                     "final_validation_accuracy": acc, "final_validation_loss": 1 - acc,
                     "best_validation_accuracy": acc, "best_epoch": 2, **(extra or {})})
    return rows


def _curves(rows, epochs=4):
    curves = []
    for r in rows:
        for epoch in range(1, epochs + 1):
            for split in ("train", "validation"):
                acc = NAN if r["diverged"] and epoch > 2 else 0.1 + 0.2 * epoch * (1 + r["member"] / 10)
                curves.append({"member": r["member"], "epoch": epoch, "step": 10 * epoch,
                               "split": split, "loss": 1 - acc, "accuracy": acc})
    return curves


def _pixels(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    img = image.imread(path)[..., :3]
    # Non-trivial: far more colours than a blank canvas with a frame (packed RGB: fast unique).
    rgb = np.round(img * 255).astype(np.uint32)
    assert np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]).size > 50
    return img


def _pure_red(img: np.ndarray) -> int:
    """Pixels of matplotlib's "red" (the diverged markers / "div" labels, absent from the cycle)."""
    return int(np.sum((img[..., 0] > 0.9) & (img[..., 1] < 0.15) & (img[..., 2] < 0.15)))


def test_group_stats_over_seeds_excludes_diverged_and_nan():
    (only,) = plots.group_stats(_rows(), LR, "final_validation_accuracy").items()
    key, s = only
    assert key == ()
    np.testing.assert_array_equal(s["x"], [0.001, 1.0])
    np.testing.assert_allclose(s["mean"], [0.6, 0.8])
    np.testing.assert_allclose(s["min"], [0.5, 0.8])
    np.testing.assert_allclose(s["max"], [0.7, 0.8])
    np.testing.assert_allclose(s["std"], [math.sqrt(0.02 / 3), 0.0])
    np.testing.assert_array_equal(s["n"], [3, 1])

    by = plots.group_stats(_rows(), LR, "final_validation_accuracy", by=(SCALE,))
    assert list(by) == [(0.1,), (1.0,)]
    np.testing.assert_allclose(by[0.1,]["mean"], [0.6, 0.8])
    np.testing.assert_array_equal(by[0.1,]["n"], [2, 1])
    np.testing.assert_allclose(by[1.0,]["mean"], [0.6, NAN])  # all of lr=1.0 diverged
    np.testing.assert_allclose(by[1.0,]["std"], [0.0, NAN])
    np.testing.assert_array_equal(by[1.0,]["n"], [1, 0])


def test_group_stats_absent_metric_counts_nothing():
    (s,) = plots.group_stats(_rows(), LR, "final_test_accuracy").values()
    np.testing.assert_array_equal(s["n"], [0, 0])
    assert np.isnan(s["mean"]).all()


def test_grid_means():
    xs, ys, means = plots.grid_means(_rows(), LR, SCALE, "final_validation_accuracy")
    assert (xs, ys) == ([0.001, 1.0], [0.1, 1.0])
    np.testing.assert_allclose(means, [[0.6, 0.8], [0.6, NAN]])


def test_auto_log_needs_positive_numbers_over_two_decades():
    assert plots._auto_log([0.001, 0.1, 1.0])
    assert not plots._auto_log([0.01, 1.0])  # exactly two decades
    assert not plots._auto_log([0.0, 0.1, 10.0])
    assert not plots._auto_log(["adam", "sgd"])


def test_plot_metric_vs_writes_png_with_diverged_markers(tmp_path):
    path = str(tmp_path / "sub" / "acc.png")
    assert plots.plot_metric_vs(_rows(), LR, path, by=(SCALE,)) == path
    assert _pure_red(_pixels(path)) > 0
    healthy = [r for r in _rows() if not r["diverged"]]
    clean = plots.plot_metric_vs(healthy, LR, str(tmp_path / "clean.png"), log_x=False)
    assert _pure_red(_pixels(clean)) == 0


def test_categorical_axis(tmp_path):
    rows = _rows()
    for r, init in zip(rows, ["normal", "uniform", "orthogonal", "normal"] * 2):
        r[INIT] = init
    s = plots.group_stats(rows, INIT, "final_validation_accuracy")[()]
    assert list(s["x"]) == ["normal", "orthogonal", "uniform"]
    np.testing.assert_allclose(s["mean"], [0.55, 0.8, 0.7])  # normal: 0.5, 0.6 (NaN, diverged)
    np.testing.assert_array_equal(s["n"], [2, 1, 1])
    _pixels(plots.plot_metric_vs(rows, INIT, str(tmp_path / "init.png"), by=(LR,)))
    paths = plots.write_all(rows, _curves(rows), [INIT], str(tmp_path / "w"))
    assert sorted(os.listdir(tmp_path / "w")) == ["curves.png",
                                                  "validation_accuracy_vs_model.kernel_init.png"]
    for p in paths:
        _pixels(p)


@pytest.mark.parametrize("color_by", [None, "numeric", "categorical"])
def test_plot_curves(tmp_path, color_by):
    rows = _rows()
    values = {"numeric": {r["member"]: r[LR] for r in rows},
              "categorical": {r["member"]: ("a", "b")[r["seed"]] for r in rows}}.get(color_by)
    path = plots.plot_curves(_curves(rows), str(tmp_path / "c.png"), color_by=values,
                             color_label="x")
    _pixels(path)


def test_plot_heatmap_marks_all_diverged_cells(tmp_path):
    path = plots.plot_heatmap(_rows(), LR, SCALE, str(tmp_path / "h.png"))
    assert _pure_red(_pixels(path)) > 0  # the red "div" in the all-diverged cell
    healthy = _rows([t[:3] + (0.5, False) for t in TABLE])
    assert _pure_red(_pixels(plots.plot_heatmap(healthy, LR, SCALE, str(tmp_path / "ok.png")))) == 0


@pytest.mark.parametrize("swept, expected", [
    ([LR], ["curves.png", "validation_accuracy_vs_optimizer.learning_rate.png"]),
    (["seed", LR, SCALE], ["curves.png", "heatmap.png",
                           "validation_accuracy_vs_model.init_scale.png",
                           "validation_accuracy_vs_optimizer.learning_rate.png"]),
    ([LR, SCALE, "model.width"], ["curves.png",  # no heat map beyond two keys
                                  "validation_accuracy_vs_model.init_scale.png",
                                  "validation_accuracy_vs_model.width.png",
                                  "validation_accuracy_vs_optimizer.learning_rate.png"]),
])
def test_write_all_writes_expected_files(tmp_path, swept, expected):
    rows = _rows(extra={"model.width": 64})
    paths = plots.write_all(rows, _curves(rows), swept, str(tmp_path / "plots"))
    assert sorted(os.listdir(tmp_path / "plots")) == expected
    assert sorted(os.path.basename(p) for p in paths) == expected
    for p in paths:
        _pixels(p)


def test_write_all_falls_back_to_the_splits_that_exist(tmp_path):
    rows = [{k: v for k, v in r.items() if "validation" not in k} for r in _rows()]
    curves = [c for c in _curves(rows) if c["split"] == "train"]
    paths = plots.write_all(rows, curves, [LR], str(tmp_path))
    assert sorted(map(os.path.basename, paths)) == ["curves.png",
                                                    "train_accuracy_vs_optimizer.learning_rate.png"]
