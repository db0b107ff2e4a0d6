"""Figures of single runs, drawn from what a run writes to its workdir (metrics, checkpoints)."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Sequence

import jax.numpy as jnp
import matplotlib
import numpy as np
from matplotlib import animation, patheffects
from matplotlib.figure import Figure

from jaxdl import data
from jaxdl.models import inits
from jaxdl.train import saved, workdir as wd

PNG_DPI = 80
GIF_DPI = 60  # GIFs are one full image per checkpoint: keep them small

SPLIT_STYLE = {"train": "-", "validation": "--", "test": ":"}


def learning_curves(workdir: str, path: str | None = None) -> str:
    """Loss and accuracy against step for every split in WORKDIR/metrics.jsonl."""
    records = wd.read_metrics(workdir)
    if not records:
        raise ValueError(f"{workdir}/metrics.jsonl has no records yet")
    fig = Figure(figsize=(10, 4), layout="constrained")
    for ax, metric in zip(fig.subplots(1, 2), ("loss", _second_metric(records))):
        for colour, (split, style) in enumerate(SPLIT_STYLE.items()):
            points = [(r["step"], r[metric]) for r in records if r["split"] == split and metric in r]
            if points:
                steps, values = np.asarray(points).T
                ax.plot(steps, values, style, marker="o", markersize=3, label=split, color=f"C{colour}")
        ax.set(xlabel="step", ylabel=metric, title=metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(os.path.basename(os.path.normpath(workdir)))
    path = path or os.path.join(workdir, "learning_curves.png")
    fig.savefig(path, dpi=100)
    return path


def _second_metric(records: list[dict]) -> str:
    """Accuracy for classifiers, else the first other metric the evaluations report (e.g. an NLL)."""
    evals = [k for r in records if r["split"] != "train" for k in r]
    if "accuracy" in evals:
        return "accuracy"
    skip = {"step", "epoch", "split", "time", "loss", "count", "correct"}
    return next((k for k in evals if k not in skip), "accuracy")


def weight_masks(workdir: str) -> list[str]:
    """Nielsen's "weight masks": a 784-10 net's ten weight vectors as 28x28 images.

    Writes WORKDIR/weight_masks.png (last checkpoint) and weight_masks.gif (one frame per
    kept checkpoint); returns their paths.
    """
    config = saved.load_config(workdir)
    if config.model.name != "mlp" or tuple(config.model.hidden):
        raise ValueError(f"weight masks need a net without hidden layers (784-10), but {workdir} trained "
                         f"{config.model.name} with hidden={tuple(config.model.get('hidden', ()))}; "
                         f"run `jaxdl train nielsen_weight_masks` first")
    shape = data.get_spec(config.data.name).image_shape[:2]

    def draw(fig: Figure, frame: tuple[int, int | None, Any]) -> None:
        step, epoch, params = frame
        kernel = np.asarray(params["layers"][0]["kernel"])
        scale = float(np.abs(kernel).max())  # symmetric, so white is exactly 0
        axes = fig.subplots(2, 5, gridspec_kw=dict(left=0.01, right=0.9, bottom=0.02, top=0.86, wspace=0.05))
        for k, ax in enumerate(axes.flat):
            image = ax.imshow(kernel[:, k].reshape(shape), cmap="RdBu_r", vmin=-scale, vmax=scale)
            ax.set_title(str(k))
            ax.set_axis_off()
        fig.colorbar(image, cax=fig.add_axes((0.92, 0.1, 0.015, 0.7)), label="weight")
        fig.suptitle(f"{config.experiment} ({config.loss.name}, {config.loss.output}): weights into each "
                     f"output unit, {_when(step, epoch)} (red +, blue -)")

    return _animate(workdir, "weight_masks", _snapshots(workdir), draw, figsize=(10, 4.2))


def latent3(workdir: str) -> list[str]:
    """The test digits in a net's 3-unit last hidden layer, a 3-D scatter coloured by digit.

    Writes WORKDIR/latent3.png (last checkpoint), latent3.gif (one frame per kept checkpoint)
    and latent3.json: per checkpoint the digit centroids and `ratio_4_9`, the distance between
    the 4 and 9 centroids over the mean distance between all pairs of centroids (below 1: 4s
    and 9s sit closer together than digits do on average). Returns the three paths.
    """
    config = saved.load_config(workdir)
    hidden = tuple(config.model.get("hidden", ()))
    if config.model.name != "mlp" or not hidden or hidden[-1] != 3:
        raise ValueError(f"latent3 needs an MLP whose last hidden layer has 3 units, but {workdir} trained "
                         f"{config.model.name} with hidden={hidden}; run `jaxdl train nielsen_latent3` first")
    test = data.load_arrays(config.data.name, "test", data_dir=config.data.data_dir or None)
    x_NxD = test["image"].reshape(len(test["image"]), -1)
    labels_N = test["label"]
    act = inits.activation(config.model.activation)
    classes = range(data.get_spec(config.data.name).num_classes)
    frames = []
    for step, epoch, params in _snapshots(workdir):
        h, layers = jnp.asarray(x_NxD), params["layers"]  # layers: {0: {"kernel", "bias"}, 1: ...}
        for i in range(len(layers) - 1):  # the MLP's forward pass up to the logits
            h = act(h @ layers[i]["kernel"] + layers[i]["bias"][None, :])
        z_Nx3 = np.asarray(h)
        centroids = np.stack([z_Nx3[labels_N == c].mean(0) for c in classes])
        dist = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)
        ratio = float(dist[4, 9] / dist[np.triu_indices(len(dist), 1)].mean())
        frames.append((step, epoch, z_Nx3, centroids, ratio))
    points = np.concatenate([f[2] for f in frames])
    lo, hi = points.min(0), points.max(0)  # one box for all frames, so the GIF does not jump
    colours = matplotlib.colormaps["tab10"]

    def draw(fig: Figure, frame: tuple[int, int | None, np.ndarray, np.ndarray, float]) -> None:
        step, epoch, z_Nx3, centroids, ratio = frame
        ax = fig.add_axes((-0.04, -0.04, 0.92, 0.96), projection="3d")
        ax.set_box_aspect(None, zoom=0.9)  # room for the axis labels
        for c in classes:
            ax.scatter(*z_Nx3[labels_N == c].T, s=6, alpha=0.5, color=colours(c), label=str(c))
            ax.text(*centroids[c], str(c), fontsize=15, fontweight="bold", color=colours(c),
                    path_effects=[patheffects.withStroke(linewidth=3, foreground="white")])
        ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), zlim=(lo[2], hi[2]),
               xlabel="unit 1", ylabel="unit 2", zlabel="unit 3")
        fig.legend(title="digit", loc="center right", markerscale=3)
        fig.suptitle(f"{config.experiment}: 3-unit layer on {len(labels_N)} test images, {_when(step, epoch)}\n"
                     f"d(4, 9) / mean centroid distance = {ratio:.2f} (digits at their centroids)")

    paths = _animate(workdir, "latent3", frames, draw, figsize=(7.5, 6))
    summary = {
        "experiment": config.experiment,
        "split": "test",
        "ratio_4_9": "distance between the 4 and 9 centroids / mean distance between all pairs of centroids",
        "checkpoints": [{"step": step, "epoch": epoch, "ratio_4_9": ratio, "centroids": centroids.tolist()}
                        for step, epoch, _, centroids, ratio in frames],
    }
    paths.append(os.path.join(workdir, "latent3.json"))
    with open(paths[-1], "w") as f:
        json.dump(summary, f, indent=1)
    return paths


def _snapshots(workdir: str) -> list[tuple[int, int | None, Any]]:
    """(step, epoch, params) for every kept checkpoint, oldest first; epoch is None for a
    checkpoint that did not fall on an epoch's end (train.checkpoint_every_steps > 0)."""
    epochs = {r["step"]: r["epoch"] for r in wd.read_metrics(workdir) if r["split"] == "train"}
    return [(step, epochs.get(step), saved.restore(workdir, step)[2].params)
            for step in saved.checkpoint_steps(workdir)]


def _when(step: int, epoch: int | None) -> str:
    return f"step {step}" if epoch is None else f"epoch {epoch}"


def _animate(workdir: str, stem: str, frames: Sequence, draw: Callable[[Figure, Any], None],
             figsize: tuple[float, float]) -> list[str]:
    """draw(fig, frame) for every frame into WORKDIR/STEM.gif, the last also into STEM.png."""
    fig = Figure(figsize=figsize)  # placed by hand: constrained layout triples the drawing time
    gif = os.path.join(workdir, f"{stem}.gif")
    writer = animation.PillowWriter(fps=2)
    with writer.saving(fig, gif, dpi=GIF_DPI):
        for frame in frames:
            fig.clear()
            draw(fig, frame)
            writer.grab_frame()
    png = os.path.join(workdir, f"{stem}.png")
    fig.savefig(png, dpi=PNG_DPI)
    return [png, gif]


def attention_map(weights_TxS: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str,
                  path: str) -> str:
    """One head's attention weights as a heatmap: a row per query, a column per key."""
    weights_TxS = np.asarray(weights_TxS)
    if weights_TxS.shape != (len(rows), len(cols)):
        raise ValueError(f"weights of shape {weights_TxS.shape} need {len(rows)} row and {len(cols)} "
                         f"column labels")
    fig = Figure(figsize=(max(4.0, 0.28 * len(cols) + 2), max(3.0, 0.28 * len(rows) + 1.5)),
                 layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(weights_TxS, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), [repr(c)[1:-1] for c in cols], fontsize=8)
    ax.set_yticks(range(len(rows)), [repr(r)[1:-1] for r in rows], fontsize=8)
    ax.set(xlabel="attends to (key)", ylabel="query")
    ax.set_title(title, fontsize=9, wrap=True)
    fig.colorbar(image, ax=ax, label="weight")
    fig.savefig(path, dpi=PNG_DPI)
    return path


def attention(workdir: str, text: str | None = None, *, layer: int = -1, head: int = 0,
              path: str | None = None) -> str:
    """The decoder's attention over the source for `text` (an encoder-decoder run), one head.

    The target is the model's own greedy decoding. `text` is encoded with the dataset's
    source codec; without one (or without `text`) the longest of the first 64 validation
    examples is used.
    """
    from jaxdl.data import text as text_lib
    from jaxdl.models import transformer
    from jaxdl.tasks import transformer_seq2seq

    config, model, state = saved.restore(workdir)
    if config.task != "transformer_seq2seq":
        raise ValueError(f"attention maps are drawn for transformer_seq2seq runs; {workdir} trained "
                         f"task {config.task!r}")
    cfg = transformer_seq2seq.model_config(config)
    layer = layer % cfg.num_layers
    if not 0 <= head < cfg.num_heads:
        raise ValueError(f"head must be in [0, {cfg.num_heads}), got {head}")
    spec = data.get_spec(config.data.name)
    codec = spec.meta.get("source")
    if text is not None and hasattr(codec, "encode"):
        src = jnp.asarray(codec.encode([text]))
    else:
        sources = data.load_arrays(config.data.name, "validation", config.data.data_dir or None,
                                   max_examples=64)["source"]
        longest = int(np.argmax((sources != text_lib.PAD).sum(1)))
        src = jnp.asarray(sources[longest:longest + 1])
    n_src = int((src[0] != text_lib.PAD).sum())
    out = transformer.greedy_decode(state.params, src, cfg=cfg, length=transformer_seq2seq.pair_meta(spec)[
        "max_tgt_len"] - 1, bos=text_lib.BOS)
    ends = np.flatnonzero(np.asarray(out[0]) == text_lib.EOS)
    n_out = int(ends[0]) + 1 if ends.size else out.shape[1]
    tgt_in = jnp.concatenate([jnp.full((1, 1), text_lib.BOS, jnp.int32), out[:, : n_out - 1]], axis=1)
    weights = transformer.cross_attention_weights(state.params, src, tgt_in, cfg, layer)[0, head]

    def labels(ids, vocab):
        return vocab.decode(ids) if vocab is not None else [str(int(i)) for i in ids]

    src_vocab = getattr(codec, "vocab", None)
    tgt_vocab = getattr(spec.meta.get("target"), "vocab", None)
    cols = labels(np.asarray(src[0, :n_src]), src_vocab)
    rows = labels(np.asarray(out[0, :n_out]), tgt_vocab)
    title = f"{config.experiment}: decoder layer {layer}, head {head}\nattention over the source"
    return attention_map(np.asarray(weights[:n_out, :n_src]), rows, cols, title,
                         path or os.path.join(workdir, f"attention_l{layer}_h{head}.png"))
