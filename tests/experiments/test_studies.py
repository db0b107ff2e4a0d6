"""The named studies: each row's sides are the original's recipe and the experiment's registered default."""

import pytest

from jaxdl import config as config_lib, experiments
from jaxdl.experiments import studies
from jaxdl.studies import fidelity


def _sides(row_name: str) -> tuple:
    _, configs = fidelity._configs("original_code", [row_name], None, [])
    return configs[row_name, "original_choices"], configs[row_name, "default"]


def test_made_and_vae_sides_differ_only_in_the_originals_choices_at_its_budget():
    original, default = _sides("made")
    registered = experiments.get_config("made_mnist")
    assert (original.model.init, default.model.init) == ("torch_default", registered.model.init)
    assert (original.train.ema_decay, default.train.ema_decay) == (0.0, registered.train.ema_decay)
    for c in (original, default):
        assert c.model.hidden == (784, 784) and c.model.ordering == c.model.connectivity == "natural"
        assert (c.made.num_masks, c.made.eval_masks, c.train.epochs, c.train.keep_best) == (1, 1, 100, True)
    original, default = _sides("vae")
    assert (original.model.activation, original.data.batch_size, original.optimizer.name, original.model.variance,
            original.model.init, original.optimizer.decay_biases) == (
        "silu", 32, "adamw", "softplus", "torch_default", True)
    assert (original.optimizer.weight_decay, original.train.ema_decay) == (1e-2, 0.0)  # the defaults add an EMA
    registered = config_lib.apply_overrides(experiments.get_config("vae_mnist"), ["train.epochs=100"])
    assert default.to_dict() == registered.to_dict()  # vae_mnist as registered (it keeps its best state)


def test_playdl_and_mlp_sides():
    original, default = _sides("playdl")
    assert (original.experiment, default.experiment) == ("movielens_playdl", "movielens_mf")
    assert default.to_dict() == experiments.get_config("movielens_mf").to_dict()
    original, default = _sides("mlp")
    # The same 200 passes over the data; scikit-learn's batch of 200 on one side, mnist_mlp's own on the other.
    assert (original.train.epochs, default.train.epochs) == (200, 200)
    assert (original.data.batch_size, default.data.batch_size) == (200, experiments.get_config(
        "mnist_mlp").data.batch_size)
    assert default.train.keep_best and not original.train.keep_best


def test_default_side_reads_the_experiments_registered_default_when_the_study_runs(monkeypatch):
    made_mnist = experiments.EXPERIMENTS["made_mnist"]

    def changed():
        c = made_mnist()
        c.model.init = "torch_default"
        return c

    monkeypatch.setitem(experiments.EXPERIMENTS, "made_mnist", changed)
    assert _sides("made")[1].model.init == "torch_default"


def test_a_side_selects_best_or_final():
    with pytest.raises(ValueError, match="side select='last'; valid: best, final"):
        studies.Side("mnist_mlp", select="last")
