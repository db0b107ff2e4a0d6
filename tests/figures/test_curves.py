"""Learning curves: loss, then accuracy for classifiers or the first other metric evaluations report (an NLL)."""

import matplotlib.image


def test_learning_curves_of_a_generative_run_show_its_nll(made_run):
    from jaxdl import figures

    assert figures.curves._second_metric([{"step": 1, "epoch": 1, "split": "test", "time": 0.0, "loss": 1.0,
                                    "nll_ensemble": 2.0, "count": 3}]) == "nll_ensemble"
    matplotlib.image.imread(figures.learning_curves(made_run))
