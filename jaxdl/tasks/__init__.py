"""Tasks by name: `config.task` picks the factory that turns a config into a `Task`.

`register_task(name, make)` adds one (jaxdl's own below go the same way); its models are registered
in `jaxdl.models.MODELS` under the task's name.
"""

from __future__ import annotations

from collections.abc import Callable

import ml_collections

from jaxdl.registry import Registry
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

TASKS: Registry[Callable[[ml_collections.ConfigDict], Task]] = Registry("task")
register_task = TASKS.register

for _name, _make in {
    "classification": classification.make,
    "regression": regression.make,
    "seq2seq": seq2seq.make,
    "char_lm": char_lm.make,
    "transformer_seq2seq": transformer_seq2seq.make,
    "vae": vae.make,
    "made": made.make,
    "node_classification": node_classification.make,
    "text_classification": text_classification.make,
}.items():
    register_task(_name, _make)


def make(config: ml_collections.ConfigDict) -> Task:
    return TASKS.get_or_raise(config.get("task", "classification"))(config)


__all__ = ["Batch", "Metrics", "TASKS", "Task", "divide_by_count", "make", "register_task"]
