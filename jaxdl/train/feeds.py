"""The two ways data reaches a train step; both take indices from `epoch_indices`.

`DeviceFeed`: the split lives on device and S steps run as one `lax.scan`
(small datasets: MNIST-5k, Fashion-MNIST). `StreamFeed`: records are read
from the TFDS data source per batch and the jitted step runs once per batch
(data bigger than device memory). Given the same indices both see the same
batches, so they train the same model.

A feed loads data; `runner(train_step)` and `evaluator(model, loss_fn)` give
`run(state, idx_SxB) -> (state, metrics_S)` and `evaluate(params, split)`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import data
from jaxdl.train import steps


class DeviceFeed:
    def __init__(self, dataset: str, splits, *, data_dir, max_train_examples, eval_batch_size):
        self.arrays = {}
        for split in splits:
            limit = max_train_examples if split == "train" and max_train_examples > 0 else None
            arrays = data.load_arrays(dataset, split, data_dir=data_dir, max_examples=limit)
            self.arrays[split] = jax.device_put(arrays)
        self.num_train = int(self.arrays["train"]["label"].shape[0])
        self.eval_batch_size = eval_batch_size

    def runner(self, train_step: steps.TrainStep):
        run_steps = steps.make_run_steps(train_step)
        return lambda state, idx_SxB: run_steps(state, self.arrays["train"], idx_SxB)

    def evaluator(self, model, loss_fn):
        evaluate = steps.make_evaluate(model, loss_fn, self.eval_batch_size)
        return lambda params, split: evaluate(params, self.arrays[split])


class StreamFeed:
    def __init__(self, dataset: str, splits, *, data_dir, max_train_examples, eval_batch_size):
        self.sources = {split: data.source(dataset, split, data_dir=data_dir) for split in splits}
        n = len(self.sources["train"])
        self.num_train = min(n, max_train_examples) if max_train_examples > 0 else n
        self.eval_batch_size = eval_batch_size

    def _read(self, split: str, idx) -> dict:
        return data.decode_records(self.sources[split].__getitems__([int(i) for i in idx]))

    def runner(self, train_step: steps.TrainStep):
        step = jax.jit(train_step, donate_argnums=0)

        def run(state, idx_SxB):
            history = []
            for idx_B in np.asarray(idx_SxB):
                state, metrics = step(state, self._read("train", idx_B))
                history.append(metrics)
            return state, jax.tree.map(lambda *m: jnp.stack(m), *history)

        return run

    def evaluator(self, model, loss_fn):
        eval_step = jax.jit(steps.make_eval_step(model, loss_fn))
        b = self.eval_batch_size

        def evaluate(params, split):
            n, totals = len(self.sources[split]), None
            for start in range(0, n, b):
                batch = self._read(split, range(start, min(start + b, n)))
                count = batch["label"].shape[0]
                # Pad the last batch (masked) so it reuses the compiled step.
                batch = {k: np.concatenate([v, np.zeros((b - count, *v.shape[1:]), v.dtype)])
                         for k, v in batch.items()}
                batch["mask"] = (np.arange(b) < count).astype(np.float32)
                sums = eval_step(params, batch)
                totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
            return steps.summarize(totals)

        return evaluate


def make_feed(config):
    splits = dict.fromkeys(("train", *config.train.eval_splits))  # ordered, unique
    feed_cls = DeviceFeed if config.data.on_device else StreamFeed
    return feed_cls(
        config.data.name,
        splits,
        data_dir=config.data.data_dir or None,
        max_train_examples=config.data.max_train_examples,
        eval_batch_size=config.data.eval_batch_size,
    )
