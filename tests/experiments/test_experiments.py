"""The experiment registry: unknown names list the valid ones; every registered experiment builds."""

import pytest

from jaxdl import data, experiments, models, tasks
from tests.helpers import skip_without_vectors


def test_unknown_experiment_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown experiment 'mnist_cn' \(did you mean mnist_cnn"
                       r".*valid experiments: mnist_cnn, mnist_mlp, nielsen_ch1"):
        experiments.get_config("mnist_cn")


@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_every_experiment_builds_its_model_and_optimizer(name):
    from jaxdl.tasks import losses
    from jaxdl.train import optimizers
    config = experiments.get_config(name)
    assert config.experiment == name and experiments.describe(name)
    assert config.task in tasks.TASKS and config.model.name in models.model_names(config.task)
    skip_without_vectors(config)
    ok, why = data.availability(config.data.name)
    if not ok:  # building a model may read its dataset (vocabulary, NB ratios)
        pytest.skip(why)
    tasks.make(config)
    if "loss" in config:  # classification's per-example cost; other tasks define their own loss
        losses.make_loss(config.loss.name, config.loss.output)
    optimizers.make_optimizer(config.optimizer, total_steps=config.optimizer.schedule.warmup_steps + 100)
