"""Every model family, by task and name: `MODELS`, filled through `register_model`.

A config's `model.name` picks a factory among those registered for its `task`; the registry
key is "TASK/NAME" because one name may mean different families to different tasks ("lstm"
is a text classifier and a language model, and saved runs' configs say just "lstm"). The task
calls the factory with what its data determines and the config's other `model` entries
(`**hparams`):

    classification       (input_shape, num_classes, **hparams) -> PureModel of images -> logits
    text_classification  (max_len, num_classes, **hparams) -> PureModel of token ids -> logits
    char_lm              (vocab_size, seq_len, **hparams) -> lm.LanguageModel
    regression           (spec: DatasetSpec, *, center: float | None, **hparams) -> PureModel -> (B,)
    seq2seq              (source_len, *, source_vocab, target_vocab, **hparams) -> PureModel
    transformer_seq2seq  (cfg: transformer.TransformerConfig) -> PureModel
    vae                  (input_shape, **hparams) -> vae.VAEFunctions
    made                 (input_shape, *, hidden, activation, init) -> PureModel
    node_classification  (num_nodes, edges, num_classes, features, **hparams) -> gnn.GraphModel

Entries are lazy ("module:function") where they can be, so listing names imports no model code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from jaxdl.models import lm
from jaxdl.registry import Registry, unknown_name_error

MODELS: Registry[Callable[..., Any]] = Registry("model")


def register_model(task: str, name: str, factory: Any = None, *, origin: str | None = None) -> Any:
    """Adds model `name` for `task` (a decorator when `factory` is omitted); a name taken twice is an error."""
    return MODELS.register(f"{task}/{name}", factory, origin=origin)


def model_names(task: str) -> list[str]:
    """The model names `task` accepts, in registration order."""
    prefix = f"{task}/"
    return [key[len(prefix):] for key in MODELS if key.startswith(prefix)]


def model_factory(task: str, name: str) -> Callable[..., Any]:
    """The factory of model `name` for `task`; an unknown name is an error listing the task's models."""
    key = f"{task}/{name}"
    if key not in MODELS:
        raise unknown_name_error(f"{task} model", f"{task} models", name, model_names(task))
    return MODELS[key]


for _task, _name, _factory in (
    ("classification", "mlp", "jaxdl.models.mlp:make"),
    ("classification", "cnn", "jaxdl.models.cnn:make"),
    ("text_classification", "bow_mlp", "jaxdl.models.text_classifiers:bow_mlp"),
    ("text_classification", "embedding_bag", "jaxdl.models.text_classifiers:embedding_bag"),
    ("text_classification", "lstm", "jaxdl.models.text_classifiers:lstm"),
    ("char_lm", "rnn", functools.partial(lm.recurrent_lm, cell="rnn")),
    ("char_lm", "lstm", functools.partial(lm.recurrent_lm, cell="lstm")),
    ("char_lm", "gpt", "jaxdl.models.gpt:language_model"),
    ("regression", "cf_dot", "jaxdl.models.cf:dot_for_dataset"),
    ("regression", "cf_split", "jaxdl.models.cf:split_for_dataset"),
    ("regression", "tabular_mlp", "jaxdl.models.tabular:for_dataset"),
    ("seq2seq", "seq2seq", "jaxdl.models.seq2seq:make"),
    ("transformer_seq2seq", "transformer", "jaxdl.models.transformer:make"),
    ("vae", "vae", "jaxdl.models.vae:make"),
    ("made", "made", "jaxdl.models.made:make"),
    ("node_classification", "gcn", "jaxdl.models.gnn:make"),
):
    register_model(_task, _name, _factory)
