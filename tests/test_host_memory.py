"""Freed host memory is kept for reuse: a second 64 MB buffer costs no page faults."""

import json
import os
import subprocess
import sys

import pytest

from jaxdl import host_memory

# Faults of the second of two malloc / touch / free rounds of a buffer of argv[2] MB, on the
# main thread or on a new one (argv[3]), in a fresh process (the setting is process-wide, so it
# stays out of the test process).
_PROGRAM = """
import ctypes, json, resource, sys, threading
from jaxdl import host_memory, parallel
parallel.start() if sys.argv[1] == "start" else host_memory.keep_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
size, faults = int(sys.argv[2]) << 20, []

def rounds():
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        buffer = libc.malloc(size)
        ctypes.memset(buffer, 1, size)
        libc.free(buffer)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

if sys.argv[3] == "thread":
    thread = threading.Thread(target=rounds)
    thread.start()
    thread.join()
else:
    rounds()
print(json.dumps({"kept": host_memory.keep_freed_memory(), "faults": faults[0]}))
"""

PAGE = os.sysconf("SC_PAGE_SIZE")
PAGES = (64 << 20) // PAGE

pytestmark = pytest.mark.skipif(not host_memory._is_glibc(), reason="malloc settings are glibc's")


def _second_round(how: str, keep: str, mb: int = 64, thread: str = "main") -> dict:
    env = {**os.environ, "JAXDL_KEEP_FREED_MEMORY": keep}
    run = subprocess.run([sys.executable, "-c", _PROGRAM, how, str(mb), thread], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(run.stdout.splitlines()[-1])


@pytest.mark.parametrize("how", ["keep", "start"])
def test_a_freed_buffer_is_reused_without_page_faults(how):
    kept = _second_round(how, "1")
    assert kept["kept"] is True
    assert kept["faults"] < PAGES // 10, kept


def test_without_it_every_buffer_faults_its_pages_anew():
    returned = _second_round("keep", "0")
    assert returned["kept"] is False
    assert returned["faults"] >= PAGES // 2, returned


# XLA's worker threads allocate the big buffers (the char-LSTM step's are over 64 MB): a thread's
# own arena maps such a block fresh whatever the thresholds, the one main arena reuses it.
@pytest.mark.parametrize("keep, most_faults", [("1", 0.1), ("0", None)])
def test_a_big_buffer_freed_on_another_thread_is_reused_too(keep, most_faults):
    pages = (96 << 20) // PAGE
    second = _second_round("keep", keep, mb=96, thread="thread")
    if most_faults is None:
        assert second["faults"] >= pages // 2, second
    else:
        assert second["faults"] < pages * most_faults, second
