"""An encoder-decoder run's attention weights as a heatmap."""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure

from jaxdl import data
from jaxdl.runs import saved

PNG_DPI = 80


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

    config, model, params = saved.restore_params(workdir)
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
    out = transformer.greedy_decode(params, src, cfg=cfg, length=transformer_seq2seq.pair_meta(spec)[
        "max_tgt_len"] - 1, bos=text_lib.BOS)
    ends = np.flatnonzero(np.asarray(out[0]) == text_lib.EOS)
    n_out = int(ends[0]) + 1 if ends.size else out.shape[1]
    tgt_in = jnp.concatenate([jnp.full((1, 1), text_lib.BOS, jnp.int32), out[:, : n_out - 1]], axis=1)
    weights = transformer.cross_attention_weights(params, src, tgt_in, cfg, layer)[0, head]

    def labels(ids, vocab):
        return vocab.decode(ids) if vocab is not None else [str(int(i)) for i in ids]

    src_vocab = getattr(codec, "vocab", None)
    tgt_vocab = getattr(spec.meta.get("target"), "vocab", None)
    cols = labels(np.asarray(src[0, :n_src]), src_vocab)
    rows = labels(np.asarray(out[0, :n_out]), tgt_vocab)
    title = f"{config.experiment}: decoder layer {layer}, head {head}\nattention over the source"
    return attention_map(np.asarray(weights[:n_out, :n_src]), rows, cols, title,
                         path or os.path.join(workdir, f"attention_l{layer}_h{head}.png"))
