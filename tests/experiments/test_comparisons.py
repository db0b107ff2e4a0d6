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
