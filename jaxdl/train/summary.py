"""What a run trains: parameters per module and FLOPs per train step (`jaxdl show --summary`,
the line at the start of every run, its "model" row of metrics.jsonl), and the FLOP rate and
MFU of its steps (train rows of metrics.jsonl, the progress line).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import ml_collections

from jaxdl import data, rng, tasks
from jaxdl.train import flops as flops_lib, optimizers, steps
from jaxdl.train.progress import si
from jaxdl.train.state import create


@dataclasses.dataclass
class Summary:
    params: dict[str, int]  # module path (first two levels) -> parameter count
    flops_per_step: float | None  # None: the backend's cost analysis gives no count

    @property
    def total(self) -> int:
        return sum(self.params.values())

    def line(self) -> str:
        flops = "" if self.flops_per_step is None else f", {si(self.flops_per_step)}FLOP per train step"
        return f"{self.total:,} parameters{flops}"

    def table(self) -> str:
        width = max(len(m) for m in self.params)
        rows = [f"  {m:<{width}}  {n:>12,}" for m, n in self.params.items()]
        return "\n".join([self.line(), *rows])

    def record(self) -> dict[str, float]:
        """The run's "model" row of metrics.jsonl."""
        flops = {} if self.flops_per_step is None else {"flops_per_step": self.flops_per_step}
        return {"params": self.total, **flops}


def params_by_module(params) -> dict[str, int]:
    """Parameter counts grouped by the first two levels of each leaf's path, leaf names left
    out (a leaf at the top level is its own group): "layers/0", "blocks/attn", "embed"."""
    counts: dict[str, int] = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        depth = min(2, max(1, len(path) - 1))
        module = jax.tree_util.keystr(path[:depth], simple=True, separator="/")
        counts[module] = counts.get(module, 0) + math.prod(leaf.shape)
    return counts


def of_step(train_step: steps.TrainStep, state_shapes, batch_shapes) -> Summary:
    """The summary of `train_step` on a state and batch of these shapes (nothing is compiled)."""
    return Summary(params_by_module(state_shapes.params), flops_lib.step_flops(train_step, state_shapes, batch_shapes))


def of_run(run_steps, state_shapes, shardings, num_steps: int) -> Summary:
    """The summary of a run whose `feeds` runner is `run_steps`: FLOPs per step counted on the
    program its first call (`num_steps` steps) runs, traced with the state's shardings, so jit
    reuses this trace and lowering for that call (a separate trace of the step cost a mnist_cnn
    run 0.2 s before its first step, a transformer_copy run 1.0 s)."""
    placed = jax.tree.map(lambda s, sharding: jax.ShapeDtypeStruct(
        s.shape, s.dtype, sharding=sharding, weak_type=s.weak_type), state_shapes, shardings)
    return Summary(params_by_module(state_shapes.params), run_steps.step_flops(placed, num_steps))


def describe(config: ml_collections.ConfigDict) -> str:
    """`jaxdl show EXPERIMENT --summary`: parameters per module and FLOPs per step of `config`'s
    train step, traced on shapes only."""
    summary = of_step(*abstract_step(config))
    return f"{config.experiment or 'model'} (batch {config.data.batch_size}): {summary.table()}"


def abstract_step(config: ml_collections.ConfigDict):
    """(train_step, state shapes, batch shapes) of `config`, nothing computed (one training
    record is read for the batch's shapes)."""
    task = tasks.make(config)
    # The schedule's length changes no shape or FLOP; a long one satisfies every warmup.
    tx = optimizers.make_optimizer(config.optimizer, total_steps=1_000_000)
    keys = rng.streams(config.seed)
    state_shapes = jax.eval_shape(lambda: create(task.model, tx, keys["init"], keys["dropout"]))
    one = data.load_arrays(config.data.name, "train", data_dir=config.data.data_dir or None, max_examples=1)
    batch_shapes = {k: jax.ShapeDtypeStruct((config.data.batch_size, *a.shape[1:]), a.dtype) for k, a in one.items()}
    return steps.make_train_step(task, tx), state_shapes, batch_shapes


class FlopMeter:
    """Model FLOP/s (and MFU when the peak is known) over the chunks of steps timed since the
    last `take`. Timed from dispatch to the metrics' arrival, so a first chunk includes its compile."""

    def __init__(self, flops_per_step: float | None = None, peak_flops: float = 0.0):
        self.flops_per_step, self.peak_flops = flops_per_step, peak_flops
        self.steps, self.seconds = 0, 0.0

    def add(self, steps_run: int, seconds: float) -> None:
        self.steps, self.seconds = self.steps + steps_run, self.seconds + seconds

    def take(self) -> dict[str, float]:
        """{"model_flops_per_s"[, "mfu"]} since the last take ({} without a FLOP count); resets."""
        rates = {}
        if self.flops_per_step and self.seconds > 0:
            rates["model_flops_per_s"] = self.flops_per_step * self.steps / self.seconds
            if self.peak_flops > 0:
                rates["mfu"] = rates["model_flops_per_s"] / self.peak_flops
        self.steps, self.seconds = 0, 0.0
        return rates


def announce(loop, config: ml_collections.ConfigDict, summary: Summary, mesh, *, fresh: bool) -> None:
    """Starts a run's FLOP accounting: the summary line, the "model" row of metrics.jsonl (not
    again on resuming), and the peak (train.peak_flops or the device's known peak, times the
    devices) for MFU in the train rows and on the progress line."""
    per_device = flops_lib.peak_flops(config.train.get("peak_flops", 0.0), mesh.devices.flat[0].device_kind)
    peak = per_device * mesh.devices.size
    loop.meter = FlopMeter(summary.flops_per_step, peak)
    loop.progress.flops_per_step, loop.progress.peak_flops = summary.flops_per_step or 0.0, peak
    loop.progress.message(f"model: {summary.line()}")
    if fresh:
        loop.writer.write(step=0, epoch=0, split="model", metrics=summary.record())
