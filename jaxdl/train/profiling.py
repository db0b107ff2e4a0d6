"""`train.profile_steps=START:END`: a `jax.profiler` trace of those steps in WORKDIR/profile
(TensorBoard's profile plugin or Perfetto read it).

Steps are counted as `state.step` before them: START:END traces steps START..END-1. The loop
runs steps in jitted chunks (one `lax.scan` each with on-device data), so the trace starts
at the first chunk boundary at or before START and stops at the first one at or after END:
it covers whole chunks. Each chunk is a `TraceAnnotation`; where steps are dispatched one by
one (streamed data), each step is also a `StepTraceAnnotation` (the profiler's step view).
Only the lead process traces.
"""

from __future__ import annotations

import contextlib
import os

import jax


def parse_steps(text: str) -> tuple[int, int] | None:
    """"START:END" -> (START, END); "" -> None (off). A ValueError says what is valid."""
    if not text:
        return None
    start, sep, end = text.partition(":")
    try:
        window = (int(start), int(end)) if sep else None
    except ValueError:
        window = None
    if window is None or not 0 <= window[0] < window[1]:
        raise ValueError(f"train.profile_steps={text!r}: expected START:END with 0 <= START < END "
                         "(e.g. 10:20 traces steps 10-19), or '' for no trace")
    return window


class Profiler:
    """Starts and stops the trace at chunk boundaries; `chunk(start, end)` wraps each chunk."""

    def __init__(self, profile_steps: str = "", workdir: str = "", *, lead: bool = True):
        self.window = parse_steps(profile_steps) if lead else None
        self.directory = os.path.join(workdir, "profile")
        self.active = False

    @contextlib.contextmanager
    def chunk(self, start: int, end: int):
        """Runs steps start..end-1 (a chunk): traced when they overlap the window."""
        if self.window is None:
            yield
            return
        first, last = self.window
        if not self.active and start < last and end > first:
            jax.profiler.start_trace(self.directory)
            self.active = True
        try:
            with jax.profiler.TraceAnnotation(f"train steps {start}-{end - 1}"):
                yield
        finally:
            if self.active and end >= last:
                self.stop()
                self.window = None  # traced once

    def stop(self) -> None:
        if self.active:
            jax.profiler.stop_trace()
            self.active = False
