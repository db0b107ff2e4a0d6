"""Tasks by name: `config.task` picks the factory that turns a config into a `Task`.

`register_task(name, make)` adds one (jaxdl's own below go the same way); its models are registered
in `jaxdl.models.MODELS` under the task's name.
"""

from __future__ import annotations

from collections.abc import Callable

import ml_collections

from jaxdl.registry import Registry
from jaxdl.tasks.base import Batch, Metrics, Task, divide_by_count

TASKS: Registry[Callable[[ml_collections.ConfigDict], Task]] = Registry("task")
register_task = TASKS.register

# Lazy entries: a run imports only its own task's module (and its models), not all nine.
for _name in ("classification", "regression", "seq2seq", "char_lm", "transformer_seq2seq", "vae", "made",
              "node_classification", "text_classification"):
    register_task(_name, f"jaxdl.tasks.{_name}:make")


def make(config: ml_collections.ConfigDict) -> Task:
    return TASKS.get_or_raise(config.get("task", "classification"))(config)


__all__ = ["Batch", "Metrics", "TASKS", "Task", "divide_by_count", "make", "register_task"]
