"""Keep freed host memory for reuse, so XLA:CPU programs do not page-fault their buffers on every call.

XLA:CPU allocates a program's temporaries and outputs on each call and frees them at its end.
glibc's malloc serves blocks over its mmap threshold (128 KB, rising to at most 32 MB) with fresh
mappings and returns a freed heap top over 128 KB to the OS, so every call touched its buffers'
pages anew. The page faults cost `mnist_cnn` ~20 ms a call: 41 ms a step in one-step calls, 28 in
the loop's 3-step chunks, 21 in 27-step calls. With blocks up to 2 GiB kept on the heap and none
returned, a call reuses the pages the last one freed: 21-23 ms a step at every chunk size, and a
`jaxdl train mnist_cnn` epoch takes 0.69-0.82 s instead of 0.86-1.03 (same numbers). Blocks over
64 MB allocated by other threads (the char-LSTM step's) are still mapped fresh; that costs little
next to their work. The peak memory is unchanged; freed memory stays with the process instead of
going back to the OS.

`JAXDL_KEEP_FREED_MEMORY=0` leaves malloc as it was; off glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
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
    _kept = bool(libc.mallopt(_M_MMAP_THRESHOLD, _INT_MAX)) & bool(libc.mallopt(_M_TRIM_THRESHOLD, _INT_MAX))
    return _kept


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):  # not a glibc system
        return False
