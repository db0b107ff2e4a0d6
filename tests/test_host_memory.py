"""Freed host memory is kept for reuse: a second 64 MB buffer costs no page faults."""

import json
import os
import subprocess
import sys

import pytest

from jaxdl import host_memory

# Faults of the second of two 64 MB malloc / touch / free rounds, in a fresh process (the
# setting is process-wide, so it stays out of the test process).
_PROGRAM = """
import ctypes, json, resource, sys
from jaxdl import host_memory, parallel
parallel.start() if sys.argv[1] == "start" else host_memory.keep_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
size = 64 << 20
for _ in range(2):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    buffer = libc.malloc(size)
    ctypes.memset(buffer, 1, size)
    libc.free(buffer)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"kept": host_memory.keep_freed_memory(), "faults": faults}))
"""

PAGES = (64 << 20) // os.sysconf("SC_PAGE_SIZE")

pytestmark = pytest.mark.skipif(not host_memory._is_glibc(), reason="malloc settings are glibc's")


def _second_round(how: str, keep: str) -> dict:
    env = {**os.environ, "JAXDL_KEEP_FREED_MEMORY": keep}
    run = subprocess.run([sys.executable, "-c", _PROGRAM, how], env=env, capture_output=True, text=True, check=True)
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
