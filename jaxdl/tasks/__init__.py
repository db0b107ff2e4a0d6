"""Tasks by name: `config.task` picks the factory that turns a config into a `Task`."""

from __future__ import annotations

from collections.abc import Callable

import ml_collections

from jaxdl.tasks import (
    char_lm,
    classification,
    made,
    node_classification,
    regression,
    seq2seq,
    text_classification,
    transformer_seq2seq,
    vae,
)
from jaxdl.tasks.base import Batch, Metrics, Task, divide_by_count

TASKS: dict[str, Callable[[ml_collections.ConfigDict], Task]] = {
    "classification": classification.make,
    "regression": regression.make,
    "seq2seq": seq2seq.make,
    "char_lm": char_lm.make,
    "transformer_seq2seq": transformer_seq2seq.make,
    "vae": vae.make,
    "made": made.make,
    "node_classification": node_classification.make,
    "text_classification": text_classification.make,
}


def make(config: ml_collections.ConfigDict) -> Task:
    name = config.get("task", "classification")
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; valid tasks: {', '.join(TASKS)}")
    return TASKS[name](config)


__all__ = ["Batch", "Metrics", "TASKS", "Task", "divide_by_count", "make"]
