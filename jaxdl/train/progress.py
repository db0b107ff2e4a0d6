"""Progress display: a live tqdm bar on a terminal, plain lines otherwise (CI, logs)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping


def si(value: float) -> str:
    """`value` with an SI prefix and a trailing space before the unit: 42.3e6 -> "42.3 M"."""
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}"
    return f"{value:.3g} "


def _fmt(metrics: Mapping[str, float]) -> str:
    return " ".join(f"{k} {v:.4g}" for k, v in metrics.items())


class Progress:
    """Counts steps; `update` after each jitted call, `message` for eval results.

    Throughput (steps/s, and examples/s when `examples_per_step` is known) is measured from the
    previous message to the latest `update`: eval time after the last update stays out of it, and
    compile time only weighs on the first interval. With `flops_per_step` it adds the model
    FLOP/s, and with `peak_flops` (all devices) the MFU. `lead=False` (non-lead processes of a
    multi-host run) prints nothing.
    """
    flops_per_step: float = 0.0
    peak_flops: float = 0.0

    def __init__(
        self, total_steps: int, description: str, *, examples_per_step: int = 0,
        live: bool | None = None, lead: bool = True, initial: int = 0,
    ):
        if live is None:
            live = sys.stderr.isatty() and not os.environ.get("CI")
        self.total = total_steps
        self.description = description
        self.examples_per_step = examples_per_step
        self.lead = lead
        self.done = initial  # steps already taken (a resumed run)
        self.start = time.perf_counter()
        self._mark_done, self._mark_time = initial, self.start  # the current interval's start
        self._last_update = self.start
        self._bar = None
        if live and lead:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total_steps, initial=initial, desc=description, unit="step", dynamic_ncols=True
            )

    def update(self, steps: int, metrics: Mapping[str, float]) -> None:
        self.done += steps
        self._last_update = time.perf_counter()
        if self._bar is not None:
            self._bar.update(steps)
            self._bar.set_postfix_str(f"{_fmt(metrics)} {self._rates()}".rstrip(), refresh=False)

    def message(self, text: str) -> None:
        """A line that stays: through tqdm on a terminal, plain print elsewhere."""
        if not self.lead:
            return
        rates = self._rates()
        if rates:  # a new interval starts only once this one had steps to measure
            self._mark_done, self._mark_time = self.done, time.perf_counter()
        line = f"[{self.description} {self.done}/{self.total} {self.elapsed:.1f}s] {text}"
        line = f"{line} {rates}" if rates else line
        if self._bar is not None:
            self._bar.write(line)
        else:
            print(line, flush=True)

    def _rates(self) -> str:
        """Throughput over the current interval; '' when it has no steps or no time yet."""
        steps, seconds = self.done - self._mark_done, self._last_update - self._mark_time
        if steps <= 0 or seconds <= 0:
            return ""
        text = f"{steps / seconds:,.1f} steps/s"
        if self.examples_per_step:
            text += f" {steps * self.examples_per_step / seconds:,.0f} ex/s"
        if self.flops_per_step:
            rate = steps * self.flops_per_step / seconds
            text += f" {si(rate)}FLOP/s" + (f" MFU {100 * rate / self.peak_flops:.1f}%" if self.peak_flops else "")
        return text

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
