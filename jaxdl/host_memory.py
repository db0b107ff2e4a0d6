"""Keep freed host memory for reuse, so XLA:CPU programs do not page-fault their buffers on every call.

XLA:CPU allocates a program's temporaries and outputs on each call and frees them at its end.
glibc's malloc serves blocks over its mmap threshold (128 KB, rising to at most 32 MB) with fresh
mappings and returns a freed heap top over 128 KB to the OS, so every call touched its buffers'
pages anew. The page faults cost `mnist_cnn` ~20 ms a call: 41 ms a step in one-step calls, 28 in
the loop's 3-step chunks, 21 in 27-step calls. With blocks up to 2 GiB kept on the heap and none
returned, a call reuses the pages the last one freed: 21-23 ms a step at every chunk size, and a
`jaxdl train mnist_cnn` epoch takes 0.69-0.82 s instead of 0.86-1.03 (same numbers).

XLA's worker threads allocate too, and a thread's own malloc arena maps every block over 64 MB
fresh whatever the thresholds: the char-LSTM step (2 x 512, b64, t128) faulted 117,000-134,000
pages a call. So every thread allocates from the one main arena (glibc's M_ARENA_MAX = 1, set
before XLA starts its threads): no faults in most runs, and the step took 0.95-1.08 s instead of
1.08-1.30 (1.86-2.09 CPU s instead of 2.09-2.47; four alternating pairs of processes). Small
blocks still come from each thread's cache without the arena's lock. The peak memory is
unchanged; freed memory stays with the process instead of going back to the OS.

`JAXDL_KEEP_FREED_MEMORY=0` leaves malloc as it was; off glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8  # glibc's malloc.h
_INT_MAX = 2**31 - 1  # mallopt takes an int: the largest threshold it can be given

_kept = False


def keep_freed_memory() -> bool:
    """Sets this process's malloc to keep freed memory (idempotent); True when it is set."""
    global _kept
    if _kept:
        return True
    if os.environ.get("JAXDL_KEEP_FREED_MEMORY", "1") == "0" or not _is_glibc():
        return False
    libc = ctypes.CDLL(None)
    settings = ((_M_MMAP_THRESHOLD, _INT_MAX), (_M_TRIM_THRESHOLD, _INT_MAX), (_M_ARENA_MAX, 1))
    _kept = all([bool(libc.mallopt(option, value)) for option, value in settings])  # a list: all are set
    return _kept


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):  # not a glibc system
        return False
