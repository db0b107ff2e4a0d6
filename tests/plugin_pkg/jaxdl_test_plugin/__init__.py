"""A tiny jaxdl plugin for jaxdl's tests; `jaxdl_test_plugin.register` is its `jaxdl.plugins` entry point."""

DATASET = "plugin_xor"
EXPERIMENT = "plugin_xor_mlp"
MODEL = "PluginMLP"
