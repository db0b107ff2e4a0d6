"""Data parallelism as `jax.jit` over a `Mesh`, and multi-host start-up.

One mesh axis, `data`: the global batch is split over it, parameters and
optimiser state are replicated (or, with `fsdp`, split over the same axis).
The train step is the same function on 1 or N devices; only the shardings of
its inputs change, and XLA inserts the gradient all-reduce.

Several processes (TPU pod slices, multi-node GPU jobs) each run the same
program; `initialize_distributed` joins them before JAX touches a device.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxdl import host_memory

DATA = "data"
_EXPLICIT = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def distributed_environment(env: Mapping[str, str] = os.environ) -> str | None:
    """Which multi-process launch this is: 'explicit', 'slurm', 'tpu_pod' or None."""
    if all(k in env for k in _EXPLICIT):
        return "explicit"
    if "SLURM_JOB_ID" in env and int(env.get("SLURM_NTASKS", "1")) > 1:
        return "slurm"
    if len([h for h in env.get("TPU_WORKER_HOSTNAMES", "").split(",") if h]) > 1:
        return "tpu_pod"
    return None


def initialize_distributed(env: Mapping[str, str] = os.environ) -> bool:
    """Joins the other processes of a multi-host job; a no-op for one process.

    Must run before anything asks JAX for its devices.
    """
    kind = distributed_environment(env)
    if kind is None:
        return False
    if kind == "explicit":
        jax.distributed.initialize(
            coordinator_address=env["JAX_COORDINATOR_ADDRESS"],
            num_processes=int(env["JAX_NUM_PROCESSES"]),
            process_id=int(env["JAX_PROCESS_ID"]),
        )
    else:  # JAX reads SLURM's and the TPU runtime's variables itself
        jax.distributed.initialize()
    return True


def start(cpu_devices: int = 0) -> None:
    """What every run does before JAX starts its backends: expose `cpu_devices` CPU devices (when
    asked and still possible), join a multi-process job when the environment describes one, and
    keep freed host memory for the next call of a program (`host_memory`)."""
    host_memory.keep_freed_memory()
    use_cpu_devices(cpu_devices)
    if not jax.distributed.is_initialized():
        initialize_distributed()


def fetch(tree):
    """Host (numpy) copies of `tree`'s arrays; in a multi-process run each process gets the whole
    of every array, the parts other processes' devices hold included."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)


def any_process(flag: bool) -> bool:
    """Whether `flag` holds in any process: a decision every process must take together (a
    SIGTERM reaches the processes of a job at different times, but all of them must stop at
    the same step, or one waits forever in the next collective)."""
    if jax.process_count() == 1:
        return flag
    from jax.experimental import multihost_utils

    return bool(np.any(multihost_utils.process_allgather(np.asarray(flag))))


def is_lead() -> bool:
    """Only process 0 writes logs, metrics and progress."""
    return jax.process_index() == 0


def use_cpu_devices(n: int) -> bool:
    """Expose `n` CPU devices, so a CPU run can be data-parallel over the cores.

    Only before JAX's backends start (the `jaxdl` command calls it first thing), and never
    over a device count already forced through XLA_FLAGS (the tests' fake devices). Returns
    whether it took effect; when it did not, runs use the devices that exist.
    """
    if n <= 1 or "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return False
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError:  # backends already initialised (jaxdl used as a library)
        return False
    return True


def make_mesh(num_devices: int = 0) -> Mesh:
    """A 1-D `data` mesh over the first `num_devices` devices (0 = all, every host)."""
    devices = jax.devices()
    if num_devices:
        if num_devices > len(devices):
            raise ValueError(f"train.num_devices={num_devices} but only {len(devices)} devices exist")
        devices = devices[:num_devices]
        if left_out := sorted({d.process_index for d in jax.devices()} - {d.process_index for d in devices}):
            # Every process runs the same program; one with no device in the mesh cannot take part.
            raise ValueError(f"train.num_devices={num_devices} leaves process(es) {left_out} of this "
                             f"{jax.process_count()}-process run without a device; set train.num_devices=0 (all) "
                             f"or a multiple of {jax.local_device_count()}")
    return Mesh(np.asarray(devices), (DATA,))


def check_batch_size(name: str, batch_size: int, mesh: Mesh) -> None:
    n = mesh.shape[DATA]
    if batch_size % n:
        raise ValueError(
            f"{name}={batch_size} must divide by the {n} devices of the data mesh "
            f"(e.g. {max(n, batch_size // n * n)}); or set train.num_devices"
        )


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (example) axis split over `data`."""
    return NamedSharding(mesh, P(DATA))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def state_shardings(state, mesh: Mesh, *, fsdp: bool = False):
    """Replicated everywhere; with `fsdp`, each array with an axis that divides by the
    device count is split along its largest such axis (params and optimiser moments)."""
    n = mesh.shape[DATA]

    def sharding(x) -> NamedSharding:
        shape = getattr(x, "shape", ())
        axes = [i for i, d in enumerate(shape) if d % n == 0 and d >= n]
        if not fsdp or n == 1 or not axes:
            return replicated(mesh)
        axis = max(axes, key=lambda i: shape[i])
        return NamedSharding(mesh, P(*[DATA if i == axis else None for i in range(len(shape))]))

    return jax.tree.map(sharding, state)


def global_array(local: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """A global array from this process's part (all of it, for a replicated sharding)."""
    return jax.make_array_from_process_local_data(sharding, local)


def process_slice(global_batch: int, process_index: int, process_count: int) -> slice:
    """The rows of each global batch that process `process_index` reads and feeds."""
    if global_batch % process_count:
        raise ValueError(f"batch size {global_batch} must divide by the {process_count} processes")
    per = global_batch // process_count
    return slice(process_index * per, (process_index + 1) * per)
