"""Plots of a sweep's tidy tables: metric vs a swept value, learning curves, heat maps.

`rows` holds one dict per member (seed, swept config values, `diverged`, final metrics);
`curves` one dict per member, epoch and split. Statistics are over the members (seeds)
that share the other values; diverged members and NaN metrics are left out of them and
drawn separately, so one blow-up neither hides a setting nor drags its mean down.

Figures are built with the object-oriented API (`Figure`, saved through Agg), never pyplot,
so nothing is shown, no global backend is switched, and no figure outlives its call.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import cm, colormaps, colors
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

Row = Mapping[str, Any]
MAX_LEVELS = 12  # values of a key beyond which it is drawn as an axis only (lines, heat-map cells would crowd)



def _hashable(value: Any) -> Any:
    # Config values that went through JSON come back as lists, which cannot key a dict.
    return tuple(value) if isinstance(value, list) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _order(value: Any) -> tuple:
    # Numbers sort numerically, everything else by its text; mixed kinds never compare.
    return (0, value, "") if _is_number(value) else (1, 0, str(value))


def _sorted_unique(values) -> list:
    return sorted({_hashable(v) for v in values}, key=_order)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def _finite_metric(row: Row, metric: str) -> float:
    """The row's metric, or NaN when the member diverged or the split was not evaluated."""
    value = row.get(metric)
    if row.get("diverged", False) or value is None:
        return math.nan
    return float(value)


def _array(values: list) -> np.ndarray:
    # Tuples (e.g. layer sizes) must stay one element each, not become a 2-D array.
    if all(_is_number(v) or isinstance(v, str) for v in values):
        return np.asarray(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def group_stats(rows: Sequence[Row], axis_key: str, metric: str,
                by: Sequence[str] = ()) -> dict[tuple, dict[str, np.ndarray]]:
    """Per combination of `by` values: {"x", "mean", "min", "max", "std", "n"} over seeds.

    "x" is the sorted unique `axis_key` values of that combination; "n" counts the finite,
    non-diverged members behind each x, and the statistics are NaN where it is 0.
    "std" is the population standard deviation (ddof=0).
    """
    samples: dict[tuple, dict[Any, list[float]]] = {}
    for row in rows:
        group = tuple(_hashable(row[k]) for k in by)
        samples.setdefault(group, {}).setdefault(_hashable(row[axis_key]), []).append(
            _finite_metric(row, metric))
    stats = {}
    for group in sorted(samples, key=lambda g: tuple(_order(v) for v in g)):
        xs = sorted(samples[group], key=_order)
        finite = [np.asarray([v for v in samples[group][x] if math.isfinite(v)]) for x in xs]
        nan = math.nan
        stats[group] = {
            "x": _array(xs),
            "mean": np.array([f.mean() if f.size else nan for f in finite]),
            "min": np.array([f.min() if f.size else nan for f in finite]),
            "max": np.array([f.max() if f.size else nan for f in finite]),
            "std": np.array([f.std() if f.size else nan for f in finite]),
            "n": np.array([f.size for f in finite], dtype=int),
        }
    return stats


def grid_means(rows: Sequence[Row], x_key: str, y_key: str,
               metric: str) -> tuple[list, list, np.ndarray]:
    """Sorted x values, sorted y values, and the [len(y), len(x)] mean over seeds (NaN: none finite)."""
    xs = _sorted_unique(r[x_key] for r in rows)
    ys = _sorted_unique(r[y_key] for r in rows)
    means = np.full((len(ys), len(xs)), math.nan)
    for (y,), s in group_stats(rows, x_key, metric, by=(y_key,)).items():
        for x, mean in zip(s["x"], s["mean"]):
            means[ys.index(y), xs.index(x)] = mean
    return xs, ys, means


def _auto_log(values: Sequence[Any]) -> bool:
    """Log scale for positive numbers spanning more than two decades (learning rates, scales)."""
    if not values or not all(_is_number(v) and v > 0 for v in values):
        return False
    return max(values) / min(values) > 100


def _save(fig: Figure, path: str) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def _n_seeds(rows: Sequence[Row]) -> int:
    return len({r["seed"] for r in rows})


def plot_metric_vs(rows: Sequence[Row], axis_key: str, path: str, *,
                   metric: str = "final_validation_accuracy", by: Sequence[str] = (),
                   log_x: bool | None = None) -> str:
    """Mean over seeds per `by` combination with a min–max band; diverged members as red x."""
    all_x = _sorted_unique(r[axis_key] for r in rows)
    categorical = not all(_is_number(x) for x in all_x)
    # Categorical values go at 0..k-1 and are named by tick labels.
    position = (lambda x: all_x.index(x)) if categorical else float
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for group, s in group_stats(rows, axis_key, metric, by).items():
        if not s["n"].any():
            continue  # nothing finite to draw; its diverged members still get markers
        x = np.array([position(v) for v in s["x"]], dtype=float)
        label = ", ".join(f"{k}={_fmt(v)}" for k, v in zip(by, group)) or None
        (line,) = ax.plot(x, s["mean"], marker="o", label=label)
        ax.fill_between(x, s["min"], s["max"], color=line.get_color(), alpha=0.2, linewidth=0)
    diverged = Counter(position(_hashable(r[axis_key])) for r in rows if r.get("diverged", False))
    if diverged:
        # A strip below the data holds one marker per x (axes-fraction y, whatever the
        # metric's range) with the number of diverged members beside it.
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - 0.1 * (hi - lo), hi)
        strip = ax.get_xaxis_transform()
        ax.scatter(list(diverged), [0.04] * len(diverged), transform=strip, marker="x",
                   color="red", s=50, zorder=3, label="diverged")
        for x, count in diverged.items():
            ax.annotate(str(count), (x, 0.04), xycoords=strip, xytext=(6, 0),
                        textcoords="offset points", color="red", fontsize="small", va="center")
        # Autoscaling ignores artists off the data transform: an x where every member
        # diverged would fall outside the axis.
        ax.update_datalim([(x, 0.0) for x in diverged], updatey=False)
        ax.autoscale_view(scaley=False)
    if categorical:
        ax.set_xticks(range(len(all_x)), [_fmt(x) for x in all_x])
    elif log_x if log_x is not None else _auto_log(all_x):
        ax.set_xscale("log")
    ax.set_xlabel(axis_key)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: mean and min–max over {_n_seeds(rows)} seeds")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return _save(fig, path)


def plot_curves(curves: Sequence[Row], path: str, *, split: str = "validation",
                metric: str = "accuracy", color_by: Mapping[int, Any] | None = None,
                color_label: str = "") -> str:
    """Every member's `metric` vs epoch on `split`; coloured by `color_by[member]` if given.

    Numeric colour values get a colorbar (log-normed when they span > 2 decades),
    others one legend entry per value; members missing from `color_by` are grey.
    """
    per_member: dict[int, list[tuple[int, float]]] = {}
    for c in curves:
        if c["split"] == split:
            per_member.setdefault(c["member"], []).append((c["epoch"], c[metric]))
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    values = _sorted_unique(color_by.values()) if color_by else []
    numeric = bool(values) and all(_is_number(v) for v in values)
    if numeric:
        norm_cls = colors.LogNorm if _auto_log(values) else colors.Normalize
        mappable = cm.ScalarMappable(norm_cls(min(values), max(values)), "viridis")
        fig.colorbar(mappable, ax=ax, label=color_label)
    palette = dict(zip(values, colormaps["tab10"].colors * (len(values) // 10 + 1)))
    for member, points in sorted(per_member.items()):
        epochs, ys = zip(*sorted(points))
        value = _hashable(color_by[member]) if color_by and member in color_by else None
        color = "grey" if value is None else mappable.to_rgba(value) if numeric else palette[value]
        ax.plot(epochs, ys, color=color, alpha=0.6, linewidth=1)
    if palette and not numeric:
        # Proxy lines: one opaque, sorted entry per value instead of one per member.
        prefix = f"{color_label}=" if color_label else ""
        ax.legend(handles=[Line2D([], [], color=c, label=f"{prefix}{_fmt(v)}")
                           for v, c in palette.items()], fontsize="small")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{split} {metric}")
    ax.set_title(f"{split} {metric} per epoch, {len(per_member)} members")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_heatmap(rows: Sequence[Row], x_key: str, y_key: str, path: str, *,
                 metric: str = "final_validation_accuracy") -> str:
    """`grid_means` as a heat map with each cell's value written in it ("div": no finite member)."""
    xs, ys, means = grid_means(rows, x_key, y_key, metric)
    fig = Figure(figsize=(1.1 * len(xs) + 3, 0.6 * len(ys) + 2.5), layout="constrained")
    ax = fig.add_subplot()
    cmap = colormaps["viridis"].with_extremes(bad="lightgrey")
    image = ax.imshow(np.ma.masked_invalid(means), cmap=cmap, origin="lower", aspect="auto")
    fig.colorbar(image, ax=ax, label=metric)
    for (i, j), value in np.ndenumerate(means):
        if math.isnan(value):
            text, color = "div", "red"
        else:
            # Dark text on the bright (high) end of viridis, light text on the dark end.
            text, color = f"{value:.3g}", "black" if image.norm(value) > 0.5 else "white"
        ax.text(j, i, text, ha="center", va="center", color=color, fontsize="small")
    ax.set_xticks(range(len(xs)), [_fmt(x) for x in xs])
    ax.set_yticks(range(len(ys)), [_fmt(y) for y in ys])
    ax.set_xlabel(x_key)
    ax.set_ylabel(y_key)
    ax.set_title(f"{metric}, mean over {_n_seeds(rows)} seeds")
    return _save(fig, path)


def write_all(rows: Sequence[Row], curves: Sequence[Row], swept_keys: Sequence[str],
              directory: str, monitor: str = "accuracy") -> list[str]:
    """The plots that make sense for this sweep, written under `directory`; returns their paths.

    Per swept key: the best available final `monitor` (the task's headline metric) vs that key (one line per
    value of the other key when there is exactly one other; with more, lines would multiply). Then the
    learning curves, and a heat map when exactly two keys besides the seed were swept. A key with
    more than `MAX_LEVELS` values (a searched one) splits no lines and makes no heat map.
    """
    swept = [k for k in swept_keys if k != "seed"]
    few = [k for k in swept if len({_hashable(r[k]) for r in rows}) <= MAX_LEVELS]
    preference = [f"final_{split}_{monitor}" for split in ("validation", "test", "train")]
    metric = next((m for m in preference if any(r.get(m) is not None for r in rows)), preference[0])
    name = metric.removeprefix("final_")
    paths = []
    for key in swept:
        others = [k for k in swept if k != key]
        path = os.path.join(directory, f"{name}_vs_{key}.png")
        paths.append(plot_metric_vs(rows, key, path, metric=metric,
                                    by=others if len(others) <= 1 and set(others) <= set(few) else ()))
    if curves:
        splits = {c["split"] for c in curves}
        split = next((s for s in ("validation", "test", "train") if s in splits), "train")
        color_by = {r["member"]: r[swept[0]] for r in rows} if swept else None
        paths.append(plot_curves(curves, os.path.join(directory, "curves.png"), split=split, metric=monitor,
                                 color_by=color_by, color_label=swept[0] if swept else ""))
    if len(swept) == 2 and few == swept:
        paths.append(plot_heatmap(rows, swept[0], swept[1],
                                  os.path.join(directory, "heatmap.png"), metric=metric))
    return paths
