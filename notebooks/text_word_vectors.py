# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Text: tokens, bags of words, sentiment classifiers and the word vectors they learn
#
# `jaxdl.data.text` tokenises and builds vocabularies (ids 0-3 reserved: PAD, UNK, BOS, EOS);
# the offline Rotten Tomatoes snippets (fresh / rotten) come as token ids under their training
# vocabulary. Three classifiers: Chollet's multi-hot bag-of-words MLP (`sentiment_bow`), a mean of
# learned word embeddings (`sentiment_embedding_bag`) and an LSTM (`sentiment_lstm`). Each keeps its
# best-validation state; the words nearest to a word by cosine similarity and a 2-D PCA of word
# vectors come from `jaxdl.runs.word_vectors` (`jaxdl neighbours`, `jaxdl plot --figure word_pca`).

# %% tags=["parameters"]
import os

SMALL = os.environ.get("JAXDL_NOTEBOOK_SMALL", "0") == "1"  # the test suite's quick mode
# Small mode: 2 epochs over 1,000 snippets (one jitted chunk each), 2,000-word vocabularies, narrow models.
LIMIT = ["data.max_train_examples=1000", "train.epochs=2", "train.progress_updates_per_epoch=1"] if SMALL else []
SIZES = {"sentiment_bow": ["model.vocab_size=2000"] if SMALL else [],
         "sentiment_embedding_bag": ["model.vocab_size=2000", "model.embed_dim=16"] if SMALL else [],
         "sentiment_lstm": ["model.vocab_size=2000", "model.embed_dim=16", "model.hidden=16"] if SMALL else []}

# %%
import tempfile

import jax.numpy as jnp
import numpy as np
from IPython.display import Image, display

from jaxdl import config as config_lib, data, experiments, figures

from jaxdl.runs import word_vectors
from jaxdl.data import sentiment, text
from jaxdl.models import text_features
from jaxdl.train import loop

root = tempfile.mkdtemp(prefix="jaxdl-nb-text-")

# %% [markdown]
# ## Tokens and a vocabulary

# %%
corpus = ["The film's a mess, but Keanu's great.", "A great, great film!", "Dull. Don't bother."]
tokens = [text.word_tokenize(s) for s in corpus]
print(tokens)
vocab = text.Vocab.build([t for sentence in tokens for t in sentence])
print(vocab, vocab.tokens)
ids = text.pad_or_truncate([vocab.encode(t) for t in tokens], 10)
print(ids)
print(vocab.decode(vocab.encode(text.word_tokenize("a great unseen film"))))  # unseen -> <unk>

# %% [markdown]
# ## The Rotten Tomatoes snippets as ids, and their bag of words

# %%
words = sentiment.vocabulary("rotten_tomatoes", None)
train = data.load_arrays("rotten_tomatoes", "train", max_examples=4)
for row, label in zip(train["tokens"], train["label"]):
    print(["negative", "positive"][label], " ".join(words[i] for i in row if i != text.PAD))
print(f"{len(words):,} words in the training vocabulary")
bag = text_features.bag_of_words(jnp.asarray(train["tokens"]), 10000, "binary", None)
print("multi-hot bags (10,000 most frequent words):", bag.shape, "ones per snippet:", bag.sum(1))

# %% [markdown]
# ## Three sentiment classifiers (test accuracy of the best-validation state)

# %%
runs = {}
for name, size in SIZES.items():
    config = config_lib.apply_overrides(experiments.get_config(name), [*LIMIT, *size])
    runs[name] = os.path.join(root, name)
    result = loop.train(config, runs[name], live=False)
    print(f"{name:24s} test accuracy {result.best['evals']['test']['accuracy']:.4f} "
          f"(best validation epoch {result.best['epoch']})")
display(Image(figures.learning_curves(runs["sentiment_embedding_bag"])))

# %% [markdown]
# ## Nearest words by cosine similarity of the learned vectors
# The embedding bag's table rows, and the bag-of-words MLP's first-layer weights (16 numbers a word).

# %%
for name in ("sentiment_embedding_bag", "sentiment_bow"):
    for word in ("good", "bad", "boring"):
        found = word_vectors.neighbours(runs[name], word, k=8)
        print(f"{name:24s} {word:8s}", ", ".join(f"{w} {s:.2f}" for w, s in found))

# %% [markdown]
# ## Sentiment words in 2-D (PCA of their vectors)

# %%
for name in ("sentiment_embedding_bag", "sentiment_lstm"):
    display(Image(figures.embeddings.plot_words(runs[name])))
_, table = word_vectors.load(runs["sentiment_embedding_bag"])
print("embedding table", table.shape, "mean vector norm", float(np.linalg.norm(table, axis=1).mean()))
