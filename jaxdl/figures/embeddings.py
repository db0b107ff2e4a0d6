"""Figures of learned embeddings: a GCN's node embeddings, a text model's word vectors in 2-D."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from jaxdl import data
from jaxdl.runs import saved, word_vectors

PNG_DPI = 100


def pca_2d(x_NxD: np.ndarray) -> np.ndarray:
    """The rows projected on their first two principal components (centred; N x 2)."""
    centred = x_NxD - x_NxD.mean(0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = centred @ vt[:2].T
    return np.pad(out, ((0, 0), (0, 2 - out.shape[1])))  # a 1-D input still gets a y axis


def node_embeddings(workdir: str, path: str | None = None) -> str:
    """Every node at its last-hidden-layer embedding (PCA to 2-D if wider), coloured by class.

    Labelled (train) nodes are ringed in black. Writes WORKDIR/node_embeddings.png.
    """
    from jaxdl.tasks import node_classification

    config, _, params = saved.restore_params(workdir)
    if config.task != "node_classification":
        raise ValueError(f"node_embeddings needs a node_classification run; {workdir} trained task "
                         f"{config.task!r} (run e.g. `jaxdl train karate_gcn` first)")
    _, hidden_NxH = node_classification.graph_model(config).forward(params)
    if hidden_NxH is None:
        raise ValueError(f"{workdir}'s GCN has no hidden layer (model.hidden=()): nothing to plot")
    hidden_NxH = np.asarray(hidden_NxH)
    z_Nx2 = hidden_NxH if hidden_NxH.shape[1] == 2 else pca_2d(hidden_NxH)
    data_dir = config.data.data_dir or None
    spec = data.get_spec(config.data.name)
    nodes = data.load_arrays(spec.name, "nodes", data_dir)
    labelled = data.load_arrays(spec.name, "train", data_dir)["node"]
    colours = matplotlib.colormaps["tab10"]
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    for c, name in enumerate(spec.meta["class_names"]):
        ids = nodes["node"][nodes["label"] == c]
        ax.scatter(*z_Nx2[ids].T, s=40, color=colours(c), alpha=0.8, label=name)
    ax.scatter(*z_Nx2[labelled].T, s=120, facecolors="none", edgecolors="black", linewidths=1.5,
               label="labelled")
    if len(z_Nx2) <= 40:  # small graphs: name every node
        for i, (x, y) in enumerate(z_Nx2):
            ax.annotate(str(i), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    how = "unit" if hidden_NxH.shape[1] == 2 else "PC"
    ax.set(xlabel=f"{how} 1", ylabel=f"{how} 2",
           title=f"{config.experiment}: {spec.name} nodes in the GCN's last hidden layer")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    path = path or os.path.join(workdir, "node_embeddings.png")
    fig.savefig(path, dpi=PNG_DPI)
    return path


def word_pca(vectors_WxD: np.ndarray, words: Sequence[str], path: str, title: str = "") -> str:
    """The given words' vectors projected on their own first two principal components."""
    if len(words) < 2 or len(words) != len(vectors_WxD):
        raise ValueError(f"word_pca needs >= 2 words, one vector each; got {len(words)} words, "
                         f"{len(vectors_WxD)} vectors")
    z_Wx2 = pca_2d(np.asarray(vectors_WxD, np.float64))
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.scatter(*z_Wx2.T, s=15, color="tab:blue")
    for word, (x, y) in zip(words, z_Wx2):
        ax.annotate(word, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="PC 1", ylabel="PC 2", title=title or "word vectors, 2-D PCA")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=PNG_DPI)
    return path


def plot_words(workdir: str, words: Sequence[str] | None = None) -> str:
    """WORKDIR/word_pca.png: the chosen words (default word_vectors.SENTIMENT_WORDS) in 2-D PCA of their vectors."""
    vocab, table = word_vectors.load(workdir)
    index = {w: i for i, w in enumerate(vocab)}
    chosen = [w for w in (words or word_vectors.SENTIMENT_WORDS) if w in index]
    if len(chosen) < 2:
        raise ValueError(f"fewer than 2 of the words {list(words or word_vectors.SENTIMENT_WORDS)} are in the model's "
                         "vocabulary")
    return word_pca(table[[index[w] for w in chosen]], chosen,
                    os.path.join(workdir, "word_pca.png"),
                    f"{saved.load_config(workdir).experiment}: learned word vectors, 2-D PCA")
