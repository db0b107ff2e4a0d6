"""The registry class behind every named kind, and jaxdl's registries of models, tasks and datasets."""

import functools
import json
import subprocess
import sys
from importlib import metadata

import ml_collections
import pytest

from jaxdl import cli, data, models, tasks
from jaxdl.registry import Registry, UnknownNameError, call_with_accepted, load_plugins


def first(x):
    return x


def second(x):
    return x


def test_a_name_registered_twice_is_an_error_naming_both_origins():
    registry = Registry("widget")
    registry.register("a", first)
    with pytest.raises(ValueError, match=f"widget 'a' is registered twice: by {__name__}:first and by "
                                         f"{__name__}:second"):
        registry.register("a", second)
    with pytest.raises(ValueError, match="by json:dumps"):
        registry.register("a", "json:dumps")
    registry.register("b", functools.partial(second, 1))
    with pytest.raises(ValueError, match=f"by {__name__}:second and by {__name__}:first"):
        registry.register("b", first)
    assert registry["a"] is first  # the failed registrations changed nothing


def test_register_works_as_a_decorator_and_setitem_replaces_on_purpose():
    registry = Registry("widget")

    @registry.register("f")
    def f():
        return 1

    assert registry["f"] is f and f() == 1
    registry["f"] = second
    assert registry["f"] is second and len(registry) == 1
    with pytest.raises(ValueError, match="non-empty string"):
        registry.register("", first)


def test_unknown_names_get_a_did_you_mean_and_the_valid_names():
    registry = Registry("widget")
    for name in ("alpha", "beta", "gamma"):
        registry.register(name, first)
    with pytest.raises(ValueError, match=r"^unknown widget 'alpah' \(did you mean alpha\?\); "
                                         r"valid widgets: alpha, beta, gamma$"):
        registry.get_or_raise("alpah")
    with pytest.raises(ValueError, match="^unknown widget 'zzz'; valid widgets: alpha, beta, gamma$"):
        registry["zzz"]


def test_unknown_name_error_is_a_value_error_and_a_key_error():
    registry = Registry("widget", plural="widgetry")
    registry.register("a", first)
    with pytest.raises(UnknownNameError) as info:
        registry["b"]
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)
    assert str(info.value) == "unknown widget 'b'; valid widgetry: a"  # not a KeyError's quoted repr
    assert registry.get("b") is None and registry.get("b", 3) == 3  # Mapping.get catches the KeyError


def test_a_lazy_entry_is_imported_on_first_use_and_not_before(tmp_path, monkeypatch):
    (tmp_path / "jaxdl_registry_probe.py").write_text("def entry():\n    return 'probed'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "jaxdl_registry_probe", raising=False)
    registry = Registry("widget")
    registry.register("probe", "jaxdl_registry_probe:entry")
    assert "probe" in registry and list(registry) == ["probe"] and len(registry) == 1
    assert registry.origin("probe") == "jaxdl_registry_probe:entry"
    assert "jaxdl_registry_probe" not in sys.modules  # listing and membership import nothing
    assert registry["probe"]() == "probed"
    assert "jaxdl_registry_probe" in sys.modules
    assert registry["probe"] is sys.modules["jaxdl_registry_probe"].entry


def test_a_registry_is_a_mapping_in_registration_order():
    registry = Registry("widget")
    names = ["zeta", "alpha", "mid"]
    for i, name in enumerate(names):
        registry.register(name, f"json:{['dumps', 'loads', 'dump'][i]}")
    assert list(registry) == names and len(registry) == 3
    assert "alpha" in registry and "beta" not in registry
    import json

    assert dict(registry) == {"zeta": json.dumps, "alpha": json.loads, "mid": json.dump}
    del registry["alpha"]
    assert list(registry.keys()) == ["zeta", "mid"]


def test_call_with_accepted_passes_only_the_options_a_function_names():
    assert call_with_accepted(lambda x, scale=1: x * scale, 2, scale=3, unused=4) == 6
    assert call_with_accepted(lambda x, **kw: (x, kw), 1, a=2) == (1, {"a": 2})


# jaxdl's own registries: one public register function per kind, the same path jaxdl's entries take.

def test_model_names_are_looked_up_per_task_with_a_did_you_mean():
    assert models.model_names("char_lm") == ["rnn", "lstm", "gpt"]
    # "lstm" is two families: the task picks which.
    assert models.model_factory("text_classification", "lstm") is not models.model_factory("char_lm", "lstm")
    with pytest.raises(UnknownNameError, match=r"^unknown text_classification model 'lstn' \(did you mean lstm\?\); "
                                               r"valid text_classification models: bow_mlp, embedding_bag, lstm$"):
        models.model_factory("text_classification", "lstn")
    with pytest.raises(UnknownNameError, match="valid nope models: $"):
        models.model_factory("nope", "mlp")


def test_a_taken_model_name_is_an_error_naming_both_origins():
    with pytest.raises(ValueError, match=f"model 'char_lm/gpt' is registered twice: by jaxdl.models.gpt:"
                                         f"language_model and by {__name__}:first"):
        models.register_model("char_lm", "gpt", first)


def test_a_model_registered_by_user_code_is_built_by_its_task():
    from jaxdl import config as config_lib, experiments
    from jaxdl.models import mlp

    @models.register_model("classification", "tiny_mlp")
    def tiny_mlp(input_shape, num_classes, **hparams):
        return mlp.make(input_shape, num_classes, hidden=(3,))

    try:
        config = config_lib.apply_overrides(experiments.get_config("mnist_mlp"), ["model.name=tiny_mlp"])
        model = tasks.make(config).model
        assert model.name == "mlp" and model.hparams["sizes"] == (784, 3, 10)
        assert "tiny_mlp" in models.model_names("classification")
    finally:
        del models.MODELS["classification/tiny_mlp"]


def test_a_taken_task_name_is_an_error_naming_both_origins():
    with pytest.raises(ValueError, match=f"task 'vae' is registered twice: by jaxdl.tasks.vae:make and by "
                                         f"{__name__}:first"):
        tasks.register_task("vae", first)
    with pytest.raises(ValueError, match=r"^unknown task 'regresion' \(did you mean regression\?\); valid tasks: "):
        tasks.make(ml_collections.ConfigDict({"task": "regresion"}))


def test_a_taken_dataset_name_is_an_error_naming_both_origins():
    import dataclasses

    spec = data.get_spec("mnist5k")
    data.register_dataset(spec)  # the same entry again: a no-op (a re-run script or notebook cell)
    with pytest.raises(ValueError, match=r"dataset 'mnist5k' is registered twice: by jaxdl.data.spec:DatasetSpec "
                       r"registered in jaxdl.data.registry \(line \d+\) and by .* registered in tests.test_registry"):
        data.register_dataset(dataclasses.replace(spec, description="another"))
    assert list(data.DATASETS)[:2] == ["mnist5k", "fashion_mnist_debian"]  # registration order


# Plugins: an installed package's `jaxdl.plugins` entry points add experiments, models and datasets.

def _test_plugin_or_skip():
    """The names tests/plugin_pkg registers; skips when that package is not installed here."""
    if not any(p.name == "jaxdl_test_plugin" for p in metadata.entry_points(group="jaxdl.plugins")):
        pytest.skip("the jaxdl_test_plugin package (tests/plugin_pkg) is not installed: run `make setup`")
    import jaxdl_test_plugin

    return jaxdl_test_plugin


def test_jaxdl_list_shows_an_installed_plugins_experiment_and_dataset(capsys):
    plugin = _test_plugin_or_skip()
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (experiment,) = [line for line in lines if line.split()[:1] == [plugin.EXPERIMENT]]
    assert f"{plugin.MODEL} on {plugin.DATASET} (classification; jaxdl_test_plugin.models:{plugin.MODEL})" \
        in experiment
    (dataset,) = [line for line in lines if line.split()[:1] == [plugin.DATASET]]
    assert "available: XOR" in dataset


def test_jaxdl_list_with_a_lazy_plugin_imports_neither_jax_nor_the_plugins_model():
    """A plugin registers names and lazy "module:function" entries (docs/your_own.md), so listing stays quick."""
    _test_plugin_or_skip()
    program = ("import sys; from jaxdl import cli; cli.run(['list']); "
               "print(sorted(m for m in ('jax', 'flax', 'optax', 'orbax', 'tensorflow_datasets', "
               "'jaxdl_test_plugin.models') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    assert "plugin_xor_mlp" in out and out.splitlines()[-1] == "[]"


def test_a_plugins_experiment_trains_by_name_through_the_command(tmp_path):
    plugin = _test_plugin_or_skip()
    workdir = tmp_path / "run"
    assert cli.main(["train", plugin.EXPERIMENT, "--workdir", str(workdir), "--set", "train.num_devices=1"]) == 0
    config = json.loads((workdir / "config.json").read_text())
    assert config["experiment"] == plugin.EXPERIMENT and config["data"]["name"] == plugin.DATASET
    assert config["sources"] == {"model": f"jaxdl_test_plugin.models:{plugin.MODEL}", "data": plugin.DATASET,
                                 "task": "classification"}
    last = json.loads((workdir / "metrics.jsonl").read_text().splitlines()[-1])
    assert (last["epoch"], last["split"]) == (2, "validation")  # the plugin's own train.epochs=2


def test_a_plugin_that_fails_to_import_names_itself(monkeypatch):
    broken = metadata.EntryPoint(name="broken", value="jaxdl_no_such_module", group="jaxdl.plugins")
    monkeypatch.setattr(metadata, "entry_points", lambda group: [broken] if group == "jaxdl.plugins" else [])
    with pytest.raises(ValueError, match=r"^jaxdl plugin 'broken' \(jaxdl_no_such_module\) failed to load: "
                                         r"ModuleNotFoundError: No module named 'jaxdl_no_such_module'$"):
        load_plugins()
