"""Progress display: a live tqdm bar on a terminal, plain lines otherwise (CI, logs)."""

from __future__ import annotations

import os
import sys
import time
from typing import Mapping


def _fmt(metrics: Mapping[str, float]) -> str:
    return " ".join(f"{k} {v:.4g}" for k, v in metrics.items())


class Progress:
    """Counts steps; `update` after each jitted call, `message` for eval results."""

    def __init__(self, total_steps: int, description: str, *, live: bool | None = None):
        if live is None:
            live = sys.stderr.isatty() and not os.environ.get("CI")
        self.total = total_steps
        self.description = description
        self.done = 0
        self.start = time.perf_counter()
        self._bar = None
        if live:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total_steps, desc=description, unit="step", dynamic_ncols=True)

    def update(self, steps: int, metrics: Mapping[str, float]) -> None:
        self.done += steps
        if self._bar is not None:
            self._bar.update(steps)
            self._bar.set_postfix_str(_fmt(metrics), refresh=False)

    def message(self, text: str) -> None:
        """A line that stays: through tqdm on a terminal, plain print elsewhere."""
        line = f"[{self.description} {self.done}/{self.total} {self.elapsed:.1f}s] {text}"
        if self._bar is not None:
            self._bar.write(line)
        else:
            print(line, flush=True)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
