"""The library import of a command that runs JAX, made cheaper (the command's time to its first step).

Importing JAX, flax and optax is most of a warm `jaxdl train`'s start. Two parts of it are not needed:
- Garbage collections while importing: the imports create few cycles yet trigger collections that
  scan every object created so far (~0.15 s of CPU); afterwards `gc.freeze` moves the modules'
  objects, which live as long as the process, out of the collector's later full scans.
- IPython (~0.04 s): flax imports it only to ask `get_ipython()` whether it runs inside IPython, which
  cannot be the case while IPython is not loaded.
"""

from __future__ import annotations

import gc
import importlib
import sys
from types import ModuleType


def import_library(name: str) -> ModuleType:
    """Imports module `name` for a command, without collections or IPython (once per process)."""
    if name in sys.modules:
        return sys.modules[name]
    block_ipython = "IPython" not in sys.modules
    if block_ipython:
        sys.modules["IPython"] = None  # `import IPython` raises ImportError: "not inside IPython"
    collecting = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(name)
    finally:
        if block_ipython and sys.modules.get("IPython") is None:
            sys.modules.pop("IPython", None)
        if collecting:
            gc.freeze()
            gc.enable()
