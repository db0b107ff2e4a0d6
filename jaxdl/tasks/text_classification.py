"""Text classification: a text model's logits of padded token ids ({"tokens", "label"} batches).

Two-class sentiment is trained as 2-way softmax cross-entropy, which equals a single
sigmoid output on the logit difference (Chollet's one-unit head) with one more bias.
"""

from __future__ import annotations

import ml_collections
import numpy as np

from jaxdl import data
from jaxdl.models import PureModel, model_factory, text_features
from jaxdl.tasks import classification, losses
from jaxdl.tasks.base import Task


def build_model(config: ml_collections.ConfigDict) -> PureModel:
    spec = data.get_spec(config.data.name)
    if "max_len" not in spec.meta or not spec.num_classes:
        text_sets = [n for n, s in data.DATASETS.items() if "max_len" in s.meta]
        raise ValueError(f"the text_classification task needs a text dataset; {spec.name!r} is not one "
                         f"(text datasets: {', '.join(text_sets)})")
    factory = model_factory("text_classification", config.model.name)
    hparams = {k: v for k, v in config.model.items() if k not in ("name", "pretrained")}
    if config.model.get("pretrained"):
        hparams["pretrained_vectors"] = pretrained_vectors(config, hparams["vocab_size"], hparams["embed_dim"])
    if hparams.get("weighting") in ("tfidf", "nb"):
        # Document frequencies (per class for nb) from the training split only, like the vocabulary.
        limit = config.data.max_train_examples or None
        train = data.load_arrays(spec.name, "train", config.data.data_dir or None, max_examples=limit)
        ngrams = (hparams["vocab_size"], hparams.get("bigram_buckets", 0), hparams.get("trigram_buckets", 0))
        if hparams["weighting"] == "tfidf":
            hparams["idf"] = text_features.inverse_document_frequency(train["tokens"], *ngrams)
        else:
            hparams["nb_ratio"] = text_features.log_count_ratio(train["tokens"], train["label"], *ngrams)
    return factory(spec.meta["max_len"], spec.num_classes, **hparams)


PRETRAINED = ("glove_6b_100d",)


def pretrained_vectors(config: ml_collections.ConfigDict, vocab_size: int, embed_dim: int):
    """The dataset vocabulary's first `vocab_size` words as pretrained vectors, NaN rows for words
    (and special tokens) without one; prints how many words were found."""
    from jaxdl.data import glove, sentiment

    name = config.model.pretrained
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained vectors {name!r}; valid: {', '.join(PRETRAINED)} (or '' for none)")
    if embed_dim != glove.DIM:
        raise ValueError(f"model.pretrained={name!r} holds {glove.DIM}-d vectors; set model.embed_dim={glove.DIM} "
                         f"(got {embed_dim})")
    words = sentiment.vocabulary(config.data.name, config.data.data_dir or None)[:vocab_size]
    table, found = glove.lookup(words)
    table[~found] = np.nan
    print(f"{name}: vectors for {found.sum():,} of the {len(words):,} vocabulary words "
          f"(the rest start random)", flush=True)
    return table


def make(config: ml_collections.ConfigDict) -> Task:
    loss_fn = losses.make_loss("cross_entropy", "softmax")
    return classification.from_model(build_model(config), loss_fn, input_key="tokens")
