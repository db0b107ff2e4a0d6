"""The plugin's experiments, each a function returning its config. Cheap to import: `jaxdl list`
reads their docstrings; the model (and with it JAX) is imported when one is built."""

from jaxdl_test_plugin import DATASET, EXPERIMENT


def plugin_xor_mlp():
    """PluginMLP on plugin_xor (classification; jaxdl_test_plugin.models:PluginMLP)"""
    import jaxdl
    from jaxdl_test_plugin.models import PluginMLP

    return jaxdl.experiment(PluginMLP, DATASET, name=EXPERIMENT, hparams=dict(width=16), register=False,
                            overrides=["train.epochs=2", "data.batch_size=64", "optimizer.learning_rate=1e-2"])
