"""The config sections every experiment shares; each experiment adds `model` and its task's own."""

from __future__ import annotations

import ml_collections

from jaxdl.train.defaults import default_optimizer_config


def base(task: str = "classification", dataset: str = "mnist5k") -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.experiment = ""
    c.seed = 0
    c.task = task  # jaxdl.tasks.TASKS: what the model is trained to do
    c.data = ml_collections.ConfigDict(
        dict(
            name=dataset,
            data_dir="",  # "" = $JAXDL_DATA_DIR, $TFDS_DATA_DIR or ~/tensorflow_datasets
            batch_size=128,
            eval_batch_size=1000,
            max_train_examples=0,  # 0 = all
            on_device=True,  # False streams batches from the TFDS data source
        )
    )
    c.optimizer = default_optimizer_config()
    c.train = ml_collections.ConfigDict(
        dict(
            epochs=10,
            num_steps=0,  # > 0 overrides epochs
            eval_every_epochs=1,
            eval_every_steps=0,  # > 0: also evaluate mid-epoch, at the first chunk end past each multiple
            eval_splits=("validation", "test"),
            progress_updates_per_epoch=10,
            num_devices=0,  # data-parallel over this many devices; 0 = all
            # The `jaxdl` command's CPU devices (parallel.use_cpu_devices): XLA:CPU runs a small
            # model's step on about one core, so N devices each take a slice of the batch.
            cpu_devices=1,
            fsdp=False,  # shard params and optimiser state over the devices too
            # 0 = every epoch end; N = at the first chunk end past each multiple of N steps;
            # -1 = only the last step (and on SIGTERM).
            checkpoint_every_steps=0,
            keep_checkpoints=3,
            debug_nans=False,  # on a NaN, replay with jax_debug_nans to name the op
            # Keep the state with the best validation `task.monitor` in WORKDIR/best.
            keep_best=False,
            # Per-device peak FLOP/s for MFU; 0 = the device's entry in train.flops.KNOWN_PEAKS,
            # if any (none on CPU: MFU is then left out).
            peak_flops=0.0,
            profile_steps="",  # "START:END": a jax.profiler trace of those steps in WORKDIR/profile
            # The shared step's mixed-precision policy: "float32", or "bfloat16" (bf16 forward and
            # backward; float32 params, optimiser state, losses and matmul accumulation).
            precision="float32",
            # k > 1 splits each batch of data.batch_size into k microbatches whose gradients are
            # averaged before one update (the same step with 1/k of the activation memory).
            grad_accum_steps=1,
            # > 0: keep an EMA of the params (decay per step) in the optimiser state; evaluation
            # and keep_best then use it. 0 = off.
            ema_decay=0.0,
        )
    )
    return c
