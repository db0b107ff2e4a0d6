"""`jaxdl generate`: text sampled from a trained character language model (a char_lm run)."""

from __future__ import annotations

import os

from jaxdl import parallel
from jaxdl.runs import saved
from jaxdl.tasks import char_lm
from jaxdl.train import checkpoint


def generate(workdir: str, prompt: str = "\n", *, length: int = 500, temperature: float = 0.8, top_k: int = 0,
             seed: int = 0, step: int | None = None) -> str:
    """`prompt` and `length` sampled characters after it, from the run's best state if kept, else its latest
    (or checkpoint `step`); the same `seed` gives the same text (in every process of a multi-process launch,
    whose process 0 alone prints it)."""
    parallel.start()  # before anything starts the backend: a multi-process launch joins its job
    best = step is None and checkpoint.has_checkpoint(os.path.join(workdir, "best"))
    config, _, params = saved.restore_params(workdir, step, best=best)
    if config.task != "char_lm":
        raise ValueError(f"{workdir} trained task {config.task!r}; generate needs a char_lm run")
    return prompt + char_lm.generate_text(config, params, prompt, length=length, temperature=temperature,
                                          top_k=top_k, seed=seed)
