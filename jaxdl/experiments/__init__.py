"""Named experiments: each is a function returning its ConfigDict, registered by name.

`register_experiment(name, get_config)` adds one (jaxdl's own below go the same way); the entry may
be the function or a lazy "module:function".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ml_collections

from jaxdl import config as config_lib
from jaxdl.experiments import study
from jaxdl.registry import Registry, load_plugins

EXPERIMENTS: Registry[Callable[[], ml_collections.ConfigDict]] = Registry("experiment")
register_experiment = EXPERIMENTS.register

for _name, _target in {
    "mnist_cnn": "jaxdl.experiments.mnist:mnist_cnn",
    "mnist_mlp": "jaxdl.experiments.mnist:mnist_mlp",
    "nielsen_ch1": "jaxdl.experiments.mnist:nielsen_ch1",
    "nielsen_ch3": "jaxdl.experiments.mnist:nielsen_ch3",
    "mnist_softmax_no_hidden": "jaxdl.experiments.mnist:mnist_softmax_no_hidden",
    "nielsen_weight_masks": "jaxdl.experiments.mnist:nielsen_weight_masks",
    "nielsen_latent3": "jaxdl.experiments.mnist:nielsen_latent3",
    "transformer_copy": "jaxdl.experiments.transformer:transformer_copy",
    "transformer_dates": "jaxdl.experiments.transformer:transformer_dates",
    "gpt_char_tiny": "jaxdl.experiments.gpt:gpt_char_tiny",
    "gpt_char_small": "jaxdl.experiments.gpt:gpt_char_small",
    "seq2seq_dates": "jaxdl.experiments.seq2seq:seq2seq_dates",
    "seq2seq_dates_luong": "jaxdl.experiments.seq2seq:seq2seq_dates_luong",
    "seq2seq_dates_matrix": "jaxdl.experiments.seq2seq:seq2seq_dates_matrix",
    "seq2seq_dates_concat": "jaxdl.experiments.seq2seq:seq2seq_dates_concat",
    "seq2seq_reverse": "jaxdl.experiments.seq2seq:seq2seq_reverse",
    "char_lstm": "jaxdl.experiments.char:char_lstm",
    "char_rnn": "jaxdl.experiments.char:char_rnn",
    "char_rnn_relu_identity": "jaxdl.experiments.char:char_rnn_relu_identity",
    "char_rnn_relu_normal": "jaxdl.experiments.char:char_rnn_relu_normal",
    "movielens_mf": "jaxdl.experiments.movielens:movielens_mf",
    "movielens_mf_refit": "jaxdl.experiments.movielens:movielens_mf_refit",
    "movielens_playdl": "jaxdl.experiments.movielens:movielens_playdl",
    "movielens_deep": "jaxdl.experiments.movielens:movielens_deep",
    "movielens_deep_refit": "jaxdl.experiments.movielens:movielens_deep_refit",
    "diamonds_embeddings": "jaxdl.experiments.tabular:diamonds_embeddings",
    "nielsen_regularisation": "jaxdl.experiments.mnist:nielsen_regularisation",
    "vae_mnist": "jaxdl.experiments.generative:vae_mnist",
    "made_mnist": "jaxdl.experiments.generative:made_mnist",
    "sentiment_bow": "jaxdl.experiments.text:sentiment_bow",
    "sentiment_embedding_bag": "jaxdl.experiments.text:sentiment_embedding_bag",
    "sentiment_lstm": "jaxdl.experiments.text:sentiment_lstm",
    "sentiment_lstm_glove": "jaxdl.experiments.text:sentiment_lstm_glove",
    "sentiment_embedding_bag_glove": "jaxdl.experiments.text:sentiment_embedding_bag_glove",
    "sentiment_nb_bow": "jaxdl.experiments.text:sentiment_nb_bow",
    "sentiment_nb_bow_pang_lee": "jaxdl.experiments.text:sentiment_nb_bow_pang_lee",
    "karate_gcn": "jaxdl.experiments.graph:karate_gcn",
    "drosophila_gcn": "jaxdl.experiments.graph:drosophila_gcn",
}.items():
    register_experiment(_name, _target)
DEFAULT = "mnist_cnn"


def describe(name: str) -> str:
    """The first line of the experiment's docstring ("" without one)."""
    return next(iter((EXPERIMENTS[name].__doc__ or "").strip().splitlines()), "")


def get_config(name: str) -> ml_collections.ConfigDict:
    """The named experiment's config, with `config.experiment` set to its name.

    `name` may also be a study file, "path/to/study.py" (its `get_config()`) or "path/to/study.py:fn"
    (its `fn()`): the file is imported first, so the models, tasks and datasets it registers exist;
    `config.experiment` is then the file's absolute path (and ":fn"), so a resumed run finds it again.
    Installed plugins (entry points `jaxdl.plugins`) are loaded before a name is looked up.
    """
    if study.is_study(name):
        return study.get_config(name)
    if name not in EXPERIMENTS:
        load_plugins()
    config = EXPERIMENTS.get_or_raise(name)()
    config.experiment = name
    return config


def configure(name: str, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
    """`get_config(name)` with `--set KEY=VALUE` overrides applied: what `jaxdl show` prints."""
    return config_lib.apply_overrides(get_config(name), overrides)


__all__ = ["DEFAULT", "EXPERIMENTS", "configure", "describe", "get_config", "register_experiment"]
