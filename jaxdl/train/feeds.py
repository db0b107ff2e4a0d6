"""The two ways data reaches a train step; both take indices from `epoch_indices`.

`DeviceFeed`: the split lives on device and S steps run as one `lax.scan`
(small datasets: MNIST-5k, Fashion-MNIST). `StreamFeed`: records are read
from the TFDS data source per batch and the jitted step runs once per batch
(data bigger than device memory). Given the same indices both see the same
batches, so they train the same model, on any number of devices.

On a mesh, a DeviceFeed keeps the (small) split replicated on every device
and each device gathers only its slice of the global batch; a StreamFeed
process reads only its own rows of each global batch (`parallel.process_slice`).

A feed loads data; `runner(train_step, state_sharding, batch_size)` and
`evaluator(task)` give `run(state, idx_SxB) -> (state, metrics_S)` and
`evaluate(params, split, key)`. `run.step_flops(state_shapes, S)` counts one step's FLOPs
on the program a call of S steps runs; jit keeps that trace and lowering for the call, so
the count costs the run no second trace.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from jaxdl import data, parallel
from jaxdl.train import flops, steps


class DeviceFeed:
    def __init__(self, dataset: str, splits, *, mesh: Mesh, data_dir, max_train_examples,
                 eval_batch_size):
        self.mesh, self.dataset = mesh, dataset
        self.arrays = {}
        for split in splits:
            limit = max_train_examples if split == "train" and max_train_examples > 0 else None
            arrays = data.load_arrays(dataset, split, data_dir=data_dir, max_examples=limit)
            self.arrays[split] = jax.tree.map(
                lambda a: parallel.global_array(a, parallel.replicated(mesh)), arrays
            )
        self.num_train = int(jax.tree.leaves(self.arrays["train"])[0].shape[0])
        self.eval_batch_size = eval_batch_size

    def example_batch(self, split: str, batch_size: int) -> dict:
        """The shapes of one global batch of `split` (for `checks.check_task`)."""
        return jax.tree.map(lambda a: jax.ShapeDtypeStruct((batch_size, *a.shape[1:]), a.dtype), self.arrays[split])

    def batch(self, split: str, idx_B) -> dict:
        """One batch (for replaying single steps), replicated."""
        return jax.tree.map(lambda a: a[jnp.asarray(idx_B)], self.arrays[split])

    def runner(self, train_step: steps.TrainStep, state_sharding, batch_size: int) -> ChunkRunner:
        run_steps = steps.make_run_steps(
            train_step, state_sharding=state_sharding, batch_sharding=parallel.batch_sharding(self.mesh)
        )
        return ChunkRunner(run_steps, self.arrays["train"], batch_size)

    def evaluator(self, task):
        evaluate = steps.make_evaluate(
            task, self.eval_batch_size, batch_sharding=parallel.batch_sharding(self.mesh)
        )
        return lambda params, split, key: evaluate(params, self.arrays[split], key)


class ChunkRunner:
    """`run(state, idx_SxB) -> (state, metrics_S)`: S steps over on-device data, one jitted scan."""

    def __init__(self, run_steps, data: dict, batch_size: int):
        self.run_steps, self.data, self.batch_size = run_steps, data, batch_size

    def __call__(self, state, idx_SxB):
        return self.run_steps(state, self.data, idx_SxB)

    def step_flops(self, state_shapes, num_steps: int) -> float | None:
        """FLOPs of one step of the program a call of `num_steps` steps runs, traced on
        `state_shapes` (with the state's shardings) and the indices' shape."""
        idx_SxB = jax.ShapeDtypeStruct((num_steps, self.batch_size), jnp.int32)
        return flops.chunk_step_flops(self.run_steps.trace(state_shapes, self.data, idx_SxB))


class StreamFeed:
    def __init__(self, dataset: str, splits, *, mesh: Mesh, data_dir, max_train_examples,
                 eval_batch_size):
        self.mesh, self.dataset = mesh, dataset
        self.sources = {split: data.source(dataset, split, data_dir=data_dir) for split in splits}
        n = len(self.sources["train"])
        self.num_train = min(n, max_train_examples) if max_train_examples > 0 else n
        self.eval_batch_size = eval_batch_size

    def example_batch(self, split: str, batch_size: int) -> dict:
        """The shapes of one global batch of `split`, from its first record (records batch into
        fixed shapes, so one says what `batch_size` of them look like)."""
        first = data.decode_records(self.dataset, self.sources[split].__getitems__([0]))
        return {k: jax.ShapeDtypeStruct((batch_size, *a.shape[1:]), a.dtype) for k, a in first.items()}

    def batch(self, split: str, idx_B) -> dict:
        """Reads this process's rows of the global batch `idx_B`; returns the global arrays."""
        mine = np.asarray(idx_B)[parallel.process_slice(len(idx_B), jax.process_index(), jax.process_count())]
        local = data.decode_records(self.dataset, self.sources[split].__getitems__([int(i) for i in mine]))
        return self._place(local)

    def _place(self, local: dict) -> dict:
        sharding = parallel.batch_sharding(self.mesh)
        return {k: parallel.global_array(v, sharding) for k, v in local.items()}

    def runner(self, train_step: steps.TrainStep, state_sharding, batch_size: int):
        step = jax.jit(train_step, donate_argnums=0, out_shardings=(state_sharding, None))

        def run(state, idx_SxB):
            history = []
            first = int(state.step.addressable_data(0))  # this process's copy: no cross-host read
            for i, idx_B in enumerate(np.asarray(idx_SxB)):
                # Steps dispatched one by one: the profiler's step view marks each (train.profile_steps).
                with jax.profiler.StepTraceAnnotation("train", step_num=first + i):
                    state, metrics = step(state, self.batch("train", idx_B))
                history.append(metrics)
            return state, jax.tree.map(lambda *m: jnp.stack(m), *history)

        def step_flops(state_shapes, num_steps: int) -> float | None:
            """FLOPs of the jitted step every call runs (`num_steps` of them)."""
            sharding = parallel.batch_sharding(self.mesh)
            batch = {k: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sharding)
                     for k, a in self.example_batch("train", batch_size).items()}
            return flops.traced_flops(step.trace(state_shapes, batch))

        run.step_flops = step_flops
        return run

    def evaluator(self, task):
        eval_step = jax.jit(steps.make_eval_step(task))

        def evaluate(params, split, key):
            n, totals = len(self.sources[split]), None
            b = steps.eval_batch_size(n, self.eval_batch_size, self.mesh.shape[parallel.DATA])
            for i, start in enumerate(range(0, n, b)):
                # Pad the last batch (masked) so it reuses the compiled step.
                idx = np.arange(start, start + b)
                mask = (idx < n).astype(np.float32)
                batch = self.batch(split, np.minimum(idx, n - 1))
                batch["mask"] = self._place({"mask": mask[parallel.process_slice(
                    b, jax.process_index(), jax.process_count())]})["mask"]
                sums = eval_step(params, batch, jax.random.fold_in(key, i))
                totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
            return task.summarize(totals)

        return evaluate


def make_feed(config, mesh: Mesh):
    splits = dict.fromkeys(("train", *config.train.eval_splits))  # ordered, unique
    for name in ("batch_size", "eval_batch_size"):
        parallel.check_batch_size(f"data.{name}", config.data[name], mesh)
    feed_cls = DeviceFeed if config.data.on_device else StreamFeed
    return feed_cls(
        config.data.name,
        splits,
        mesh=mesh,
        data_dir=config.data.data_dir or None,
        max_train_examples=config.data.max_train_examples,
        eval_batch_size=config.data.eval_batch_size,
    )
