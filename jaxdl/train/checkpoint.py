"""Orbax checkpoints of a training run: atomic saves, strict all-or-nothing restores.

Layout: DIRECTORY/STEP/{state, extra, fingerprint, checksums}. `state` is the TrainState
with its typed PRNG key stored as raw key data; `extra` is the loop's JSON position (epoch,
plateau...); `fingerprint` is the JSON description of the run that must match to restore;
`checksums` holds a CRC32 per array, because TensorStore reads a bit-flipped chunk back
without error, and one of `extra`'s JSON.

Atomicity comes from orbax: a save writes DIRECTORY/STEP.orbax-checkpoint-tmp and renames
it to DIRECTORY/STEP only once everything is written, and steps are listed by name, so a
crash mid-save leaves a tmp directory that is never listed (a later save of that step
replaces it). orbax's `cleanup_tmp_directories` is left off: it runs in a thread that
`close` does not wait for and that fails noisily at interpreter exit.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import zlib
from typing import Any

import jax
import numpy as np

from jaxdl import config as config_lib
from jaxdl.train.state import TrainState

_ABSENT = "<absent>"
# The checksum of `extra` (no TrainState leaf has this path): a flipped byte that leaves its JSON
# valid would otherwise resume at a wrong position, or fail later on a key it lost.
_EXTRA = "extra"
_MAX_LISTED = 10  # mismatches named in one error; the rest are counted


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not fit the run restoring it."""


def has_checkpoint(directory: str) -> bool:
    """Whether `directory` holds a committed checkpoint (tmp dirs of crashed saves do not count)."""
    return os.path.isdir(directory) and any(name.isdigit() for name in os.listdir(directory))


class Checkpointer:
    """Saves and restores TrainStates under `directory` (WORKDIR/checkpoints).

    `fingerprint` (JSON-able) is saved with every checkpoint; `restore` refuses a checkpoint
    whose fingerprint differs. With `fingerprint=None` nothing is checked on restore.
    """

    def __init__(self, directory: str, *, max_to_keep: int = 3, fingerprint: dict | None = None):
        self.directory = os.path.abspath(directory)
        # Compare fingerprints as JSON sees them (tuples become lists), and fail on
        # non-JSON values now rather than at the first save.
        self._fingerprint = None if fingerprint is None else _as_json(fingerprint)
        self._max_to_keep = max_to_keep

    @functools.cached_property
    def _manager(self):
        """orbax's manager, made (and DIRECTORY created) on first use: importing orbax takes ~0.15 s
        of CPU that a run does not need before its first save."""
        import orbax.checkpoint as ocp

        return ocp.CheckpointManager(
            self.directory,
            # Named handlers: a fresh manager can then read item metadata before any save.
            item_handlers={
                "state": ocp.StandardCheckpointHandler(),
                "extra": ocp.JsonCheckpointHandler(),
                "fingerprint": ocp.JsonCheckpointHandler(),
                "checksums": ocp.JsonCheckpointHandler(),
            },
            options=ocp.CheckpointManagerOptions(
                max_to_keep=self._max_to_keep, create=True,
                # orbax names its cross-process barriers by step only: a run's checkpoints/ and best/
                # saving the same step at once would meet at one barrier and fail ("already ongoing").
                multiprocessing_options=ocp.options.MultiprocessingOptions(
                    barrier_sync_key_prefix=os.path.basename(self.directory)),
            ),
        )

    def save(self, step: int, state: TrainState, extra: dict) -> None:
        """Starts writing checkpoint `step`; it is committed in the background (`wait` blocks until it is)."""
        import orbax.checkpoint as ocp

        path = self._path(step)
        latest = self.latest_step()
        if latest is not None and step <= latest:
            # orbax would silently skip this save (returns False).
            raise CheckpointError(
                f"cannot save {path}: step {step} is not after the latest checkpoint ({latest})"
            )
        storable = _storable(state)
        args = ocp.args.Composite(
            state=ocp.args.StandardSave(storable),
            extra=ocp.args.JsonSave(_as_json(extra)),
            fingerprint=ocp.args.JsonSave(self._fingerprint or {}),
            checksums=ocp.args.JsonSave({**_checksums(storable), _EXTRA: _json_crc(extra)}),
        )
        try:
            # Asynchronous: the arrays are copied off the device now and written by a
            # background thread while training goes on; the next save, `wait` and
            # `close` wait for it. A run killed meanwhile leaves only a tmp directory.
            self._manager.save(step, args=args)
        except Exception as e:
            raise CheckpointError(f"cannot save {path}: {_describe(e)}") from e

    def wait(self) -> None:
        """Blocks until the last save is committed on disk."""
        if not self._manager_made:
            return
        try:
            self._manager.wait_until_finished()
        except Exception as e:
            raise CheckpointError(f"cannot save in {self.directory}: {_describe(e)}") from e

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """The committed checkpoints' steps, oldest first."""
        return sorted(self._manager.all_steps())

    def restore(self, target: TrainState, step: int | None = None) -> tuple[TrainState, dict]:
        """Restores `step` (default: the latest) into the structure, shapes, dtypes and
        shardings of `target`, a freshly created state; returns (state, extra).

        Fingerprint, tree structure, shapes and dtypes are checked before any array is
        read, checksums after; any failure raises CheckpointError, so a partially (or
        wrongly) restored state is never returned.
        """
        import orbax.checkpoint as ocp

        step = self._committed(step)
        path = self._path(step)
        _drop_abandoned_read_reports()
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, _storable(target))
        try:
            meta = self._manager.restore(
                step,
                args=ocp.args.Composite(
                    extra=ocp.args.JsonRestore(),
                    fingerprint=ocp.args.JsonRestore(),
                    checksums=ocp.args.JsonRestore(),
                ),
            )
            stored = self._manager.item_metadata(step)["state"]
        except Exception as e:
            raise CheckpointError(f"cannot read checkpoint {path}: {_describe(e)}") from e
        if stored is None:  # orbax returns None when state/_METADATA is gone
            raise CheckpointError(f"cannot read checkpoint {path}: the metadata of its state is missing")
        if self._fingerprint is not None:
            _check_fingerprint(path, meta.fingerprint, self._fingerprint)
        _check_fits(path, stored.tree, abstract)
        try:
            restored = self._manager.restore(
                step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))
            ).state
        except Exception as e:
            raise CheckpointError(f"cannot read checkpoint {path}: {_describe(e)}") from e
        got = {**_checksums(restored), _EXTRA: _json_crc(meta.extra)}
        corrupt = [name for name, crc in meta.checksums.items() if got.get(name) != crc]
        if corrupt:
            raise CheckpointError(f"checkpoint {path} is corrupt: checksum mismatch in {_listing(corrupt)}")
        rng = jax.random.wrap_key_data(restored.rng, impl=jax.random.key_impl(target.rng))
        return restored.replace(rng=rng), meta.extra

    def check_fingerprint(self, step: int | None = None) -> None:
        """Raises CheckpointError unless checkpoint `step` (default: the latest) was saved with this
        Checkpointer's fingerprint: a check before anything is built from the config (`restore` repeats it)."""
        import orbax.checkpoint as ocp

        step = self._committed(step)
        try:
            saved = self._manager.restore(step, args=ocp.args.Composite(fingerprint=ocp.args.JsonRestore()))
        except Exception as e:
            raise CheckpointError(f"cannot read checkpoint {self._path(step)}: {_describe(e)}") from e
        if self._fingerprint is not None:
            _check_fingerprint(self._path(step), saved.fingerprint, self._fingerprint)

    def _committed(self, step: int | None) -> int:
        """`step` (default: the latest), which must be a committed checkpoint."""
        self.wait()
        step = self.latest_step() if step is None else step
        if step is None:
            raise CheckpointError(f"no checkpoint in {self.directory}")
        if step not in self._manager.all_steps():
            raise CheckpointError(f"no checkpoint {self._path(step)}; saved steps: {list(self._manager.all_steps())}")
        return step

    def close(self) -> None:
        if self._manager_made:
            self.wait()
            self._manager.close()

    @property
    def _manager_made(self) -> bool:
        return "_manager" in self.__dict__

    def _path(self, step: int) -> str:
        return os.path.join(self.directory, str(step))


def _drop_abandoned_read_reports() -> None:
    """Keeps orbax's abandoned reads off stderr, once per process.

    When one array read of a restore fails, orbax (0.12.8) closes its event loop with the other
    reads in flight: as each finishes, TensorStore's callback raises RuntimeError('Event loop is
    closed'), and each abandoned coroutine raises when garbage collected. Python prints both as
    tracebacks (sys.unraisablehook), around the one-line CheckpointError that already says what
    failed. Only these two reports are dropped; any other goes to the hook that was there before.
    """
    previous = sys.unraisablehook
    if getattr(previous, "drops_abandoned_reads", False):
        return

    def hook(unraisable: Any) -> None:
        exc, obj = unraisable.exc_value, unraisable.object
        closed_loop = obj is None and isinstance(exc, RuntimeError) and str(exc) == "Event loop is closed"
        abandoned = getattr(getattr(obj, "cr_code", None), "co_name", "") == "_read_array_index_and_device_put"
        if not (closed_loop or abandoned):
            previous(unraisable)

    hook.drops_abandoned_reads = True
    sys.unraisablehook = hook


def _storable(state: TrainState) -> TrainState:
    # Typed PRNG keys have no storable dtype; their uint32 data does.
    return state.replace(rng=jax.random.key_data(state.rng))


def _checksums(state: TrainState) -> dict[str, int]:
    """CRC32 per array this process can see whole (all of them, but for arrays sharded
    across hosts, whose bytes no single process holds)."""
    sums = {}
    for name, leaf in _leaves_by_path(state).items():
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            if not leaf.is_fully_replicated:
                continue
            leaf = leaf.addressable_data(0)
        sums[name] = zlib.crc32(np.asarray(leaf).tobytes())
    return sums


def _json_crc(value: dict) -> int:
    return zlib.crc32(json.dumps(_as_json(value), sort_keys=True).encode())


def _as_json(value: dict) -> dict:
    return json.loads(json.dumps(value))


def _describe(e: BaseException) -> str:
    # The root cause names what failed (e.g. TensorStore's "OUT_OF_RANGE: Error reading
    # ..."); the wrappers above it mostly add a full JSON spec. The traceback keeps all.
    while e.__cause__ is not None:
        e = e.__cause__
    first_line = next(iter(str(e).strip().splitlines()), "")
    return f"{type(e).__name__}: {first_line}"


def _check_fingerprint(path: str, saved: dict, current: dict) -> None:
    old, new = config_lib.flatten(saved), config_lib.flatten(current)
    diff = [k for k in sorted(old.keys() | new.keys()) if old.get(k, _ABSENT) != new.get(k, _ABSENT)]
    if diff:
        lines = [
            f"{k}: {old.get(k, _ABSENT)!r} (checkpoint) vs {new.get(k, _ABSENT)!r} (this run)" for k in diff
        ]
        raise CheckpointError(f"checkpoint {path} is from a different run; differing keys: {_listing(lines)}")



def _check_fits(path: str, stored: Any, abstract: TrainState) -> None:
    """Raises unless the stored arrays have exactly the target's leaf paths, shapes and dtypes.

    orbax itself would cast a different dtype silently, and its shape error names no leaf.
    Paths are compared as strings: orbax stores the int keys of list layers as "0", "1"...
    """
    have = _leaves_by_path(stored)
    want = _leaves_by_path(abstract)
    missing, unexpected = sorted(want.keys() - have.keys()), sorted(have.keys() - want.keys())
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint {path} has a different tree structure than the target: "
            f"missing from the checkpoint: {_listing(missing)}; not in the target: {_listing(unexpected)}"
        )
    bad = [
        f"{name}: checkpoint {tuple(have[name].shape)} {np.dtype(have[name].dtype)} "
        f"vs target {tuple(leaf.shape)} {np.dtype(leaf.dtype)}"
        for name, leaf in want.items()
        if tuple(have[name].shape) != tuple(leaf.shape) or np.dtype(have[name].dtype) != np.dtype(leaf.dtype)
    ]
    if bad:
        raise CheckpointError(f"checkpoint {path} does not fit the target: {_listing(bad)}")


def _leaves_by_path(tree: Any) -> dict[str, Any]:
    leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {jax.tree_util.keystr(p, simple=True, separator="/"): leaf for p, leaf in leaves}


def _listing(items: list[str]) -> str:
    if not items:
        return "none"
    more = f"; and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return "; ".join(items[:_MAX_LISTED]) + more
