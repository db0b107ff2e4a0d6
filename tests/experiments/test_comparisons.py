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
    assert [(c.model.init, c.train.ema_decay) for c in configs] == [
        ("torch_default", 0.995), ("torch_default", 0.0), ("lecun_normal", 0.0)]
    for c in configs:
        assert c.model.hidden == (784, 784) and c.model.ordering == c.model.connectivity == "natural"
        assert c.made.num_masks == 1 and c.optimizer.name == "adam" and c.data.batch_size == 100
    vae = comparisons.COMPARISONS["vae_original"]
    base = experiments.get_config(vae.experiment)
    default, guppy, earlier = (config_lib.apply_overrides(base.copy_and_resolve_references(), list(sets))
                               for sets in vae.variants.values())
    recipe = lambda c: (c.model.activation, c.model.variance, c.model.init, c.data.batch_size,  # noqa: E731
                        c.optimizer.name, c.optimizer.weight_decay, c.optimizer.decay_biases)
    assert recipe(default) == recipe(guppy) == ("silu", "softplus", "torch_default", 32, "adamw", 1e-2, True)
    assert (default.train.ema_decay, guppy.train.ema_decay, earlier.train.ema_decay) == (0.999, 0.0, 0.0)
    assert recipe(earlier)[:5] == ("relu", "exp", "lecun_normal", 100, "adam") and not earlier.optimizer.decay_biases
