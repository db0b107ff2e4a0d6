"""A sweep member's results row: the best-validation epoch's own test metrics, not the final ones."""

import types

from jaxdl.sweep import results


def test_row_reports_test_at_the_best_validation_epoch():
    task = types.SimpleNamespace(monitor="accuracy", monitor_mode="max")
    history = [  # validation peaks at epoch 2; test is highest at epoch 3, the final one
        {"epoch": 1, "step": 10, "validation": {"accuracy": 0.80}, "test": {"accuracy": 0.79, "loss": 0.9}},
        {"epoch": 2, "step": 20, "validation": {"accuracy": 0.90}, "test": {"accuracy": 0.85, "loss": 0.5}},
        {"epoch": 3, "step": 30, "validation": {"accuracy": 0.88}, "test": {"accuracy": 0.91, "loss": 0.4}},
    ]
    row, curves = results.summarize({"member": 0, "seed": 0}, 32, history, False, task)
    assert row["best_epoch"] == 2 and row["best_validation_accuracy"] == 0.90
    assert row["best_epoch_test_accuracy"] == 0.85 and row["best_epoch_test_loss"] == 0.5
    assert row["final_test_accuracy"] == 0.91
    assert len(curves) == 6
