"""`jaxdl COMMAND`: the command line. Every command is one call into a library function.

Commands are a table (`COMMANDS`, in `jaxdl.cli.commands`): each entry's arguments and the call it
makes. Imports of the library happen inside the calls, so `jaxdl --help` and the parser start
without JAX.
"""

from __future__ import annotations

import argparse
import os
import sys

from jaxdl.cli.commands import COMMANDS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jaxdl", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.arguments(sub.add_parser(name, help=command.help, description=command.help))
    return p


def run(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    out = COMMANDS[args.command].call(args)
    if out is not None and _is_lead():
        print(out, flush=True)


def _is_lead() -> bool:
    """Only process 0 of a multi-process run prints (without starting JAX for commands that never did)."""
    jax = sys.modules.get("jax")
    return jax is None or not jax.distributed.is_initialized() or jax.process_index() == 0


def _enable_compilation_cache() -> None:
    """Programs compiled once are reused by later commands (compiles take seconds on CPU), small
    ones too: JAX by default caches only programs that took a second to compile, and a small
    model's train and eval programs take less each, yet together most of a short run's start.
    Set through JAX's environment variables, so commands that never compile never import JAX;
    JAXDL_COMPILATION_CACHE="" turns the cache off."""
    path = os.environ.get("JAXDL_COMPILATION_CACHE", os.path.expanduser("~/.cache/jaxdl/jax"))
    if path:
        os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", path)
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


def _exit_code(error: Exception) -> int | None:
    """2 for bad input, 3 for a run stopped on a NaN/Inf, None for a bug (its traceback is shown).
    The error classes are imported only when something failed: `jaxdl list` stays quick."""
    from jaxdl.data import DatasetNotAvailableError
    from jaxdl.train.checkpoint import CheckpointError
    from jaxdl.train.epoch_loop import NonFiniteError
    from jaxdl.train.workdir import RunExistsError

    if isinstance(error, NonFiniteError):
        return 3
    if isinstance(error, (ValueError, DatasetNotAvailableError, RunExistsError, CheckpointError)):
        return 2
    return None


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done (or preempted by SIGTERM with a checkpoint saved), 2 bad input,
    3 training stopped on a NaN/Inf (the last good checkpoint is kept)."""
    _enable_compilation_cache()
    try:
        run(argv)
    except Exception as e:
        code = _exit_code(e)
        if code is None:
            raise
        print(f"jaxdl: error: {e}", file=sys.stderr)
        return code
    return 0

