"""Successive halving inside one sweep: at each rung, keep the best 1/eta of the members, drop the rest.

Training runs rung-major: every member trains to the first rung (chunk by chunk, as a plain sweep
trains), the members are ranked by the task's validation monitor at that epoch (the train monitor
without a validation split; diverged members last), the best `ceil(n / eta)` survive (per seed,
with `group_by="seed"`), and the survivors' states are gathered along the member axis into new,
smaller chunks that train on to the next rung, and so on to the last epoch. Between rungs every
member's state waits on the host. A member's training is a pure function of its inputs and the
epoch (data order and keys by seed and epoch), so a survivor ends as it would in a plain sweep, up
to float rounding of a different chunk shape. Rows gain `stopped_epoch` and `stopped_reason`
(finished, halved or diverged). A halving sweep keeps no checkpoints: it cannot be resumed.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np

from jaxdl import parallel
from jaxdl.sweep import programs, results
from jaxdl.train.progress import Progress

GROUP_BY = ("seed",)


@dataclasses.dataclass(frozen=True)
class Halving:
    rungs: tuple[int, ...]  # epochs after which members are ranked and the best 1/eta kept
    eta: int = 3
    group_by: str | None = None  # "seed": keep the best 1/eta of each seed's members

    def __post_init__(self):
        rungs = tuple(int(r) for r in self.rungs)
        object.__setattr__(self, "rungs", rungs)
        if not rungs or rungs[0] < 1 or any(b <= a for a, b in zip(rungs, rungs[1:])):
            raise ValueError(f"halving rungs must be increasing epoch counts >= 1, e.g. 1,3,9; got {rungs}")
        if int(self.eta) != self.eta or self.eta < 2:
            raise ValueError(f"halving eta must be an integer >= 2 (keep the best 1/eta); got {self.eta}")
        if self.group_by is not None and self.group_by not in GROUP_BY:
            raise ValueError(f"unknown halving group '{self.group_by}'; valid: {', '.join(GROUP_BY)} (or none)")

    def check(self, epochs: int) -> None:
        if self.rungs[-1] >= epochs:
            raise ValueError(f"halving rungs must be below the {epochs} training epochs; got {self.rungs}")


def from_flags(rungs: str | None, eta: int | None = None, group_by: str | None = None) -> Halving | None:
    """`--halving-rungs 1,3,9 --halving-eta 3 --halving-by seed` -> Halving (None without any)."""
    if not rungs:
        if eta is not None or group_by is not None:
            raise ValueError("--halving-eta and --halving-by need --halving-rungs (e.g. --halving-rungs 1,3,9)")
        return None
    try:
        epochs = tuple(int(r) for r in rungs.split(","))
    except ValueError:
        raise ValueError(f"--halving-rungs takes comma-separated epoch counts, e.g. 1,3,9; got '{rungs}'") from None
    return Halving(epochs, 3 if eta is None else eta, group_by)


def train(group, spec: Halving, requested_chunk: int, ctx) -> tuple[list, list, list, int]:
    """Trains `group` with successive halving; returns rows, curves, params (if kept) and member-steps."""
    n = len(group.members)
    history, diverged = [[] for _ in range(n)], np.zeros(n, bool)
    chunk = group.members_per_call(requested_chunk, None)
    ends = (*spec.rungs, group.epochs)
    counts = _survivor_counts(group.members, spec, len(ends))
    calls = [math.ceil(c / _per_call(group, c, chunk)) for c in counts]  # compiled calls per epoch
    progress = Progress(sum(k * _steps(group, a, b) for k, a, b in zip(calls, (0, *ends), ends)),
                        f"sweep {group.config.experiment} b{group.config.data.batch_size} halving",
                        examples_per_step=group.config.data.batch_size * chunk, live=ctx.live, lead=parallel.is_lead())
    progress.message(f"{n} members, {chunk} per compiled call, {group.epochs} epochs; "
                     f"members per rung {counts} (rungs {list(spec.rungs)}, eta {spec.eta})")
    active, stopped, host, member_steps = list(range(n)), {}, None, 0
    for first, last in zip((1, *(e + 1 for e in ends)), ends):
        host = _train_survivors(group, active, host, first, last, chunk, history, diverged, progress)
        member_steps += len(active) * _steps(group, first - 1, last)
        if last < group.epochs:
            keep = survivors(active, history, diverged, group, spec)
            stopped.update({i: (last, "diverged" if diverged[i] else "halved") for i in active if i not in keep})
            active = keep
            progress.message(f"rung {last}: {len(active)} members go on")
    stopped.update({i: (group.epochs, "finished") for i in active})
    progress.close()
    rows, curves = [], []
    for i, member in enumerate(group.members):
        row, member_curves = results.summarize(member, group.config.data.batch_size, history[i], diverged[i],
                                               group.task)
        rows.append({**row, "stopped_epoch": stopped[i][0], "stopped_reason": stopped[i][1]})
        curves += member_curves
    return rows, curves, [host.params] if ctx.keep_params else [], member_steps


def survivors(active: list[int], history: list[list[dict]], diverged: np.ndarray, group, spec: Halving) -> list[int]:
    """The best `ceil(n / eta)` of `active` (of each seed's, by `spec.group_by`) at their last evaluation:
    by validation monitor (train without validation), diverged or non-finite last, ties by member order."""
    task = group.task
    sign = 1.0 if task.monitor_mode == "max" else -1.0

    def rank(i: int) -> tuple[bool, float]:
        record = history[i][-1]
        value = record.get("validation", record["train"]).get(task.monitor, math.nan)
        bad = bool(diverged[i]) or not np.isfinite(value)
        return bad, 0.0 if bad else -sign * value

    by_group: dict = {}
    for i in active:
        by_group.setdefault(group.members[i]["seed"] if spec.group_by else None, []).append(i)
    return sorted(i for ids in by_group.values() for i in sorted(ids, key=rank)[: math.ceil(len(ids) / spec.eta)])


def _train_survivors(group, active, host, first, last, chunk, history, diverged, progress):
    """Trains the members `active` from epoch `first` to `last` in chunks of at most `chunk` (fewer
    survivors: one smaller chunk, so compute shrinks; a last partial chunk is padded); returns
    every member's state on the host (stacked over all members of the group)."""
    per_call = _per_call(group, len(active), chunk)
    for lo in range(0, len(active), per_call):
        ids = active[lo : lo + per_call]
        padded = ids + [ids[-1]] * (per_call - len(ids))
        # A fresh init gives the members' keys (and the dropout key, which never changes); the rest
        # of the state is what the last rung left.
        state, member_keys = group.init(group.member_arrays([group.members[i] for i in padded]))
        if first > 1:
            saved = jax.tree.map(lambda a: _to_devices(a[np.asarray(padded)], group.member_sharding),
                                 (host.step, host.params, host.opt_state))
            state = state.replace(step=saved[0], params=saved[1], opt_state=saved[2])
        chunk_diverged = np.zeros(per_call, bool)
        for epoch in range(first, last + 1):
            state = programs.train_epoch(group, state, member_keys, epoch, [history[i] for i in ids], chunk_diverged,
                                         progress)
        diverged[ids] |= chunk_diverged[: len(ids)]
        trained = parallel.fetch(state.replace(rng=None))
        if host is None:  # the first rung's first chunk: room for every member
            host = jax.tree.map(lambda a: np.zeros((len(group.members), *a.shape[1:]), a.dtype), trained)
        jax.tree.map(lambda h, a: h.__setitem__(np.asarray(ids), a[: len(ids)]), host, trained)
    return host


def _per_call(group, members: int, chunk: int) -> int:
    """Members per compiled call: the chunk size, or fewer when fewer members train (a multiple of
    the devices, over which the member axis splits)."""
    n_dev = group.mesh.size
    return min(chunk, -(-members // n_dev) * n_dev)


def _to_devices(x: np.ndarray, sharding) -> jax.Array:
    """A host array (every process holds all of it) split along its member axis by `sharding`."""
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])


def _survivor_counts(members: list[dict], spec: Halving, segments: int) -> list[int]:
    """How many members train in each segment between rungs (ceil(n / eta) per group at each rung)."""
    sizes: dict = {}
    for m in members:
        sizes[m["seed"] if spec.group_by else None] = sizes.get(m["seed"] if spec.group_by else None, 0) + 1
    counts = []
    for _ in range(segments):
        counts.append(sum(sizes.values()))
        sizes = {k: math.ceil(v / spec.eta) for k, v in sizes.items()}
    return counts


def _steps(group, before: int, last: int) -> int:
    """Train steps of one member from the end of epoch `before` to the end of epoch `last`."""
    return min(last * group.steps_per_epoch, group.total_steps) - min(before * group.steps_per_epoch,
                                                                      group.total_steps)
