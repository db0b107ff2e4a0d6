"""Sentiment classification experiments on movie reviews.

Default data: `rotten_tomatoes` (12,752 snippets); `--set data.name=pang_lee` for the
1,500 full reviews, `<name>_split1` .. `_split4` for the other split seeds,
`imdb_reviews` for users who have TFDS's IMDB prepared. Every run keeps its
best-validation-accuracy state (train.keep_best), whose test accuracy is the one reported.
`jaxdl table CORPUS EXPERIMENT ...` trains them on all five split seeds
and prints mean +- sd test accuracy.
"""

from __future__ import annotations

import ml_collections

from jaxdl.experiments import common


def _text(model: dict) -> ml_collections.ConfigDict:
    c = common.base(task="text_classification", dataset="rotten_tomatoes")
    c.model = ml_collections.ConfigDict(model)
    c.data.update(batch_size=128, eval_batch_size=500)
    c.optimizer.update(name="adam", learning_rate=1e-3)
    c.train.update(epochs=20, keep_best=True, checkpoint_every_steps=-1, progress_updates_per_epoch=2,
                   num_devices=1)  # small models: splitting a batch over devices only adds traffic
    return c


def sentiment_bow() -> ml_collections.ConfigDict:
    """Chollet's IMDB model: 10,000-word multi-hot -> 16 -> 16 -> 2 ReLU MLP, Adam (weighting=tfidf optional)."""
    return _text(dict(name="bow_mlp", vocab_size=10000, hidden=(16, 16), weighting="binary", bigram_buckets=0,
                      activation="relu", dropout=0.0, input_dropout=0.0, kernel_init="lecun_normal"))


def sentiment_embedding_bag() -> ml_collections.ConfigDict:
    """Mean of learned 64-d word embeddings -> 2 (trainable=false: frozen random embeddings)."""
    return _text(dict(name="embedding_bag", vocab_size=20000, embed_dim=64, hidden=(), trainable=True,
                      frozen_seed=0, bigram_buckets=0, activation="relu", dropout=0.0, input_dropout=0.0,
                      embed_scale=1.0))


def sentiment_lstm() -> ml_collections.ConfigDict:
    """64-d word embeddings -> 64-unit LSTM (jaxdl.models.rnn) -> mean over time -> 2, Adam, grad clip 1."""
    c = _text(dict(name="lstm", vocab_size=20000, embed_dim=64, hidden=64, layers=1, pool="mean", read_len=0,
                   dropout=0.3, forget_bias=1.0, unroll=1))
    c.optimizer.update(learning_rate=2e-3, clip_norm=1.0)
    c.data.batch_size = 64
    c.train.epochs = 8
    return c


def sentiment_lstm_glove() -> ml_collections.ConfigDict:
    """`sentiment_lstm` over 100-d GloVe 6B vectors (`jaxdl.data.glove`, `make glove`), fine-tuned,
    max-pooled, on the open vocabulary (held-out words get their GloVe vectors, not UNK).

    Mean best-validation accuracy over the 5 Rotten Tomatoes split seeds: mean pool 79.2%,
    frozen vectors 76.2%, lr 1e-3 78.7%, hidden 128 79.3%, dropout 0.5 79.7%, max pool 79.6%,
    bidirectional 80.0%; open vocabulary: mean pool 78.9%, max pool 79.8%, bidirectional 79.7%.
    Chosen (max pool, open) as the ensemble partner of `sentiment_nb_bow`: the pair's mean
    validation accuracy was the highest, 81.0% (bidirectional 81.0%, closed vocabulary <= 80.9%).
    """
    c = sentiment_lstm()
    c.data.name = "rotten_tomatoes_open"
    c.model.update(embed_dim=100, vocab_size=30000, pool="max", pretrained="glove_6b_100d", trainable=True,
                   bidirectional=False)
    return c


def sentiment_embedding_bag_glove() -> ml_collections.ConfigDict:
    """`sentiment_embedding_bag` over 100-d GloVe 6B vectors, fine-tuned."""
    c = sentiment_embedding_bag()
    c.model.update(embed_dim=100, pretrained="glove_6b_100d")
    return c


def sentiment_nb_bow() -> ml_collections.ConfigDict:
    """NB-LR (Wang & Manning 2012): multi-hot words + hashed bigrams scaled by their train-split NB
    log-count ratio -> linear -> 2, Adam, early stopping on validation as the regulariser.

    Chosen on mean validation accuracy over the 5 split seeds of both corpora: input_dropout 0
    (79.4% / 85.5%) over 0.5 (78.8% / 85.5%) and 0.7 (78.2% / 85.7%); trigrams lowered it.
    """
    c = _text(dict(name="bow_mlp", vocab_size=60000, hidden=(), weighting="nb", bigram_buckets=2**20,
                   trigram_buckets=0, activation="relu", dropout=0.0, input_dropout=0.0, kernel_init="zeros"))
    c.optimizer.update(learning_rate=1e-2)
    c.train.epochs = 10  # a linear model: best validation by epoch 7 on rotten_tomatoes split 0
    return c


def sentiment_nb_bow_pang_lee() -> ml_collections.ConfigDict:
    """`sentiment_nb_bow` for Pang & Lee's full reviews: L2 and 50 epochs instead of early stopping alone.

    On 1,080 long reviews the unpenalised linear model fits train within 2 epochs and stops
    improving. Mean best-validation accuracy over the 5 split seeds, 50 epochs: no L2 (10 epochs)
    85.5%, L2 1e-4 87.8%, 3e-4 89.5%, 1e-3 89.7%, 3e-3 90.2%, 1e-2 90.2% (a tie: the smaller kept).
    """
    c = sentiment_nb_bow()
    c.data.name = "pang_lee"
    c.optimizer.l2 = 3e-3
    c.train.epochs = 50
    return c
