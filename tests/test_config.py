"""Config overrides: parsed to the existing type; bad input fails at once, naming what is valid."""

import pytest

from jaxdl import config as config_lib, experiments


def test_overrides_are_parsed_to_the_existing_type():
    c = config_lib.apply_overrides(
        experiments.get_config("mnist_mlp"),
        ["optimizer.learning_rate=0.5", "model.hidden=(64, 32)", "data.on_device=false",
         "seed=3", "optimizer.name=sgd", "model.hidden=[10]", "optimizer.l2=1"],
    )
    assert c.optimizer.learning_rate == 0.5 and c.seed == 3 and c.optimizer.name == "sgd"
    assert c.model.hidden == (10,) and c.data.on_device is False
    assert c.optimizer.l2 == 1.0 and isinstance(c.optimizer.l2, float)
    assert experiments.get_config("mnist_mlp").optimizer.learning_rate == 1e-3  # no mutation


@pytest.mark.parametrize(
    "override, message",
    [
        ("optimizer.lr=0.1", r"unknown config key 'optimizer.lr' \(did you mean optimizer\.l[12]"),
        ("nonsense=1", "unknown config key 'nonsense'; valid keys: data.batch_size, .*, model.dropout_impl, .*, "
                       "seed, task, train.checkpoint_every_steps, .*, train.epochs"),
        ("seed=abc", "--set seed=abc: cannot parse 'abc' as int"),
        ("seed=0.5", r"--set seed=0.5: expected int \(current value 0\)"),
        ("data.on_device=maybe", "expected true or false"),
        ("model.hidden=(1.5,)", "expected a tuple of int"),
        ("seed", "--set expects key=value"),
    ],
)
def test_bad_overrides_name_what_is_valid(override, message):
    with pytest.raises(ValueError, match=message):
        config_lib.apply_overrides(experiments.get_config("mnist_mlp"), [override])
