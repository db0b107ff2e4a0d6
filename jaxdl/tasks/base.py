"""A task: what a model is trained to do, as pure functions the shared loop calls.

The loop, the sweep runner and the benchmarks only ever see a `Task`: its
model's `init`, a `loss` to differentiate and `eval_sums` to add up over a
split. Batches are dicts of arrays with the example axis first; what keys
they hold is the task's business.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax

from jaxdl.models import PureModel

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]


def divide_by_count(totals: Metrics) -> Metrics:
    """Every summed metric as a mean over the counted examples; the count itself kept."""
    return {k: (v if k == "count" else v / totals["count"]) for k, v in totals.items()}


def loss_headline(metrics: Metrics) -> str:
    return f"loss {float(metrics['loss']):.4f}"


@dataclasses.dataclass(frozen=True)
class Task:
    model: PureModel  # the loop initialises `model.init(key)`
    # loss(params, batch, *, key, train) -> (mean loss to minimise, {metric: batch mean}).
    loss: Callable[..., tuple[jax.Array, Metrics]]
    # eval_sums(params, batch, mask_B, *, key) -> {metric: sum over rows with mask 1}, with
    # "count" = sum(mask_B). `key` is fixed per eval batch (for stochastic estimates).
    eval_sums: Callable[..., Metrics]
    summarize: Callable[[Metrics], Metrics] = divide_by_count
    monitor: str = "loss"  # the validation metric the plateau schedule and keep_best watch
    monitor_mode: str = "min"  # or "max"
    headline: Callable[[Metrics], str] = loss_headline  # one eval split, for the console

    def better(self, new: float, old: float | None) -> bool:
        if old is None:
            return True
        return new > old if self.monitor_mode == "max" else new < old
