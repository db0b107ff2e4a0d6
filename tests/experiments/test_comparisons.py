"""The named comparisons: the regularisation variants are the 784-100-10 net with one regulariser each."""

import numpy as np

from jaxdl import config as config_lib, experiments
from jaxdl.experiments import comparisons


def test_regularisation_variants_are_nielsen_ch3_784_100_10_with_one_regulariser_each():
    spec = comparisons.COMPARISONS["nielsen_regularisation"]
    configs = {label: config_lib.apply_overrides(experiments.get_config(spec.experiment), sets)
               for label, sets in spec.variants.items()}
    for label, c in configs.items():
        assert c.model.hidden == (100,) and c.loss.name == "cross_entropy" and c.optimizer.name == "sgd"
        active = {"L1": c.optimizer.l1 > 0, "L2": c.optimizer.l2 > 0, "dropout": c.model.dropout > 0}
        assert [k for k, on in active.items() if on] == ([] if label == "none" else [label.split()[0]])
    np.testing.assert_allclose(configs["L2 (lambda=5, n=3500)"].optimizer.l2, 5 / 3500)
    assert configs["L2 (lambda/n=1e-4)"].optimizer.l2 == configs["L1 (lambda/n=1e-4)"].optimizer.l1 == 1e-4


def test_original_recipe_comparisons_differ_only_in_the_named_choices():
    made = comparisons.COMPARISONS["made_original"]
    configs = [config_lib.apply_overrides(experiments.get_config(made.experiment), [*made.overrides, *sets])
               for sets in made.variants.values()]
    assert [c.model.init for c in configs] == ["torch_default", "lecun_normal"]
    for c in configs:
        assert c.model.hidden == (784, 784) and c.model.ordering == c.model.connectivity == "natural"
        assert c.made.num_masks == 1 and c.optimizer.name == "adam" and c.data.batch_size == 100
    vae = comparisons.COMPARISONS["vae_original"]
    base = experiments.get_config(vae.experiment)
    default, default_torch, guppy, guppy_jaxdl = (config_lib.apply_overrides(base.copy_and_resolve_references(),
                                                                             list(sets))
                                                  for sets in vae.variants.values())
    choices = lambda c: (c.model.variance, c.model.init, c.optimizer.decay_biases)  # noqa: E731
    assert choices(default) == ("exp", "lecun_normal", False)
    assert choices(default_torch) == ("softplus", "torch_default", False) and default_torch.data.batch_size == 100
    assert choices(guppy) == ("softplus", "torch_default", True)
    for c in (guppy, guppy_jaxdl):
        assert (c.model.activation, c.data.batch_size, c.optimizer.name, c.optimizer.weight_decay) == (
            "silu", 32, "adamw", 1e-2)
    assert guppy_jaxdl.model.variance == "exp" and not guppy_jaxdl.optimizer.decay_biases
