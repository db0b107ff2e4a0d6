"""Named experiments: each is a function returning its ConfigDict."""

from __future__ import annotations

import difflib
from typing import Callable

import ml_collections

from jaxdl.experiments import cf, char, generative, graph, mnist, seq2seq, tabular, text, transformer

EXPERIMENTS: dict[str, Callable[[], ml_collections.ConfigDict]] = {
    "mnist_cnn": mnist.mnist_cnn,
    "mnist_mlp": mnist.mnist_mlp,
    "nielsen_ch1": mnist.nielsen_ch1,
    "nielsen_ch3": mnist.nielsen_ch3,
    "mnist_softmax_no_hidden": mnist.mnist_softmax_no_hidden,
    "nielsen_weight_masks": mnist.nielsen_weight_masks,
    "nielsen_latent3": mnist.nielsen_latent3,
    "transformer_copy": transformer.transformer_copy,
    "transformer_dates": transformer.transformer_dates,
    "gpt_char_tiny": transformer.gpt_char_tiny,
    "gpt_char_small": transformer.gpt_char_small,
    "seq2seq_dates": seq2seq.seq2seq_dates,
    "seq2seq_dates_luong": seq2seq.seq2seq_dates_luong,
    "seq2seq_dates_matrix": seq2seq.seq2seq_dates_matrix,
    "seq2seq_dates_concat": seq2seq.seq2seq_dates_concat,
    "seq2seq_reverse": seq2seq.seq2seq_reverse,
    "char_lstm": char.char_lstm,
    "char_rnn": char.char_rnn,
    "char_rnn_relu_identity": char.char_rnn_relu_identity,
    "char_rnn_relu_normal": char.char_rnn_relu_normal,
    "movielens_mf": cf.movielens_mf,
    "movielens_mf_refit": cf.movielens_mf_refit,
    "movielens_deep": cf.movielens_deep,
    "movielens_deep_refit": cf.movielens_deep_refit,
    "diamonds_embeddings": tabular.diamonds_embeddings,
    "nielsen_regularisation": mnist.nielsen_regularisation,
    "vae_mnist": generative.vae_mnist,
    "made_mnist": generative.made_mnist,
    "sentiment_bow": text.sentiment_bow,
    "sentiment_embedding_bag": text.sentiment_embedding_bag,
    "sentiment_lstm": text.sentiment_lstm,
    "sentiment_lstm_glove": text.sentiment_lstm_glove,
    "sentiment_embedding_bag_glove": text.sentiment_embedding_bag_glove,
    "sentiment_nb_bow": text.sentiment_nb_bow,
    "sentiment_nb_bow_pang_lee": text.sentiment_nb_bow_pang_lee,
    "karate_gcn": graph.karate_gcn,
    "drosophila_gcn": graph.drosophila_gcn,
}
DEFAULT = "mnist_cnn"


def describe(name: str) -> str:
    return (EXPERIMENTS[name].__doc__ or "").strip().splitlines()[0]


def get_config(name: str) -> ml_collections.ConfigDict:
    if name not in EXPERIMENTS:
        close = difflib.get_close_matches(name, EXPERIMENTS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown experiment '{name}'{hint}; valid experiments: {', '.join(EXPERIMENTS)}")
    config = EXPERIMENTS[name]()
    config.experiment = name
    return config
