"""Benchmark rows: each times jaxdl's public training step and PyTorch doing the same work.

jaxdl side: the experiment's config -> `tasks.make` -> `optimizers.make_optimizer` ->
`steps.make_train_step` -> `steps.make_run_steps`, i.e. exactly the jitted scan of train steps
the training loop runs on on-device data (it also computes accuracy and the gradient norm).
Compile time is `lower(...).compile()` of that program. PyTorch side: the same network,
optimiser, batch and dtype, one eager step after another. Both read the same random (not
zero) inputs and the same batch indices.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks import measure, torch_worker
from jaxdl import config as config_lib, experiments, rng, tasks
from jaxdl.train import optimizers, steps
from jaxdl.train.state import create


@dataclasses.dataclass
class Result:
    """One row of the table. `flops` is model FLOPs per unit of the rate (see README)."""

    row: str
    workload: str
    unit: str  # of `jaxdl` and `torch`
    jaxdl: float | None = None
    torch: float | None = None
    torch_kept: float | None = None  # torch with jaxdl's malloc setting (jaxdl.host_memory)
    higher_is_better: bool = True
    ceiling: float | None = None  # plain-JAX ceiling, same unit
    flops: float | None = None
    jaxdl_compile_s: float | None = None
    jaxdl_mem_mib: float | None = None
    torch_mem_mib: float | None = None
    jaxdl_footprint_mib: float | None = None  # compiled program: args + outputs + temps
    note: str = ""

    @property
    def speedup(self) -> float | None:
        """> 1 means jaxdl is faster."""
        return self._ratio(self.torch)

    @property
    def speedup_kept(self) -> float | None:
        """The same against torch keeping freed memory too."""
        return self._ratio(self.torch_kept)

    def _ratio(self, torch: float | None) -> float | None:
        if self.jaxdl is None or torch is None:
            return None
        return self.jaxdl / torch if self.higher_is_better else torch / self.jaxdl


# --- jaxdl -----------------------------------------------------------------------------------

def config_for(experiment: str, overrides):
    return config_lib.apply_overrides(experiments.get_config(experiment), list(overrides))


@dataclasses.dataclass
class Side:
    """One side of a row, warmed up: `call()` runs `steps` train steps and blocks until done."""

    call: Callable[[], None] | None
    steps: int
    mem_mib: float | None = None  # peak memory growth during the warm-up call
    compile_s: float | None = None
    footprint_mib: float | None = None  # compiled program: args + outputs + temps
    run: Callable[[int], list[float]] | None = None  # a side in another process: `measure.timed_calls`
    note: Callable[[], str] | None = None  # extra timings for the row's note (torch.compile on GPU)


def jaxdl_steps(config, data: dict, idx_SxB: np.ndarray) -> Side:
    """The loop's scanned train steps over `idx_SxB` (S steps per call), compiled and warm."""
    task = tasks.make(config)
    tx = optimizers.make_optimizer(config.optimizer, total_steps=1_000_000, ema_decay=config.train.ema_decay)
    run_steps = steps.make_run_steps(steps.make_train_step(task, tx, **steps.step_options(config.train)))
    keys = rng.streams(config.seed)
    state = create(task.model, tx, keys["init"], keys["dropout"])
    data = jax.device_put(data)
    idx = jax.device_put(idx_SxB)
    start = time.perf_counter()
    compiled = run_steps.lower(state, data, idx).compile()
    compile_s = time.perf_counter() - start
    with measure.PeakMemory("jaxdl") as mem:
        state, metrics = compiled(state, data, idx)  # warm-up
        jax.block_until_ready((state, metrics))
    if not np.all(np.isfinite(jax.device_get(metrics["loss"]))):
        raise FloatingPointError("jaxdl benchmark step produced a non-finite loss")
    holder = [state]

    def call():
        holder[0], m = compiled(holder[0], data, idx)
        jax.block_until_ready((holder[0], m))

    return Side(call, len(idx_SxB), mem.mib, compile_s, measure.compiled_footprint_mib(compiled))


def plain_jax_mlp_steps(sizes, data: dict, idx_SxB: np.ndarray, lr: float) -> Side:
    """Ceiling: the same MLP and Adam as bare jnp + optax, no model or loop machinery."""
    keys = jax.random.split(jax.random.key(0), len(sizes) - 1)
    params = [(jax.nn.initializers.lecun_normal()(k, (n_in, n_out)), jnp.zeros((n_out,)))
              for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:])]
    opt = optax.adam(lr)

    def loss(params, x, y):
        h = x.reshape(x.shape[0], -1)
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b[None, :])
        w, b = params[-1]
        return optax.softmax_cross_entropy_with_integer_labels(h @ w + b[None, :], y).mean()

    def run(carry, data, idx_SxB):
        def body(carry, idx_B):
            params, opt_state = carry
            grads = jax.grad(loss)(params, data["image"][idx_B], data["label"][idx_B])
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        return jax.lax.scan(body, carry, idx_SxB)[0]

    run = jax.jit(run, donate_argnums=0)
    data, idx = jax.device_put(data), jax.device_put(idx_SxB)
    holder = [jax.block_until_ready(run((params, opt.init(params)), data, idx))]

    def call():
        holder[0] = jax.block_until_ready(run(holder[0], data, idx))

    return Side(call, len(idx_SxB))


def time_sides(res: Result, sides: dict[str, Side], repeats: int, calls_per_turn: int,
               units_per_step: int = 1) -> None:
    """Times the row's sides ("jaxdl", optional "plain", and "torch" with "torch_kept" from
    `torch_worker.sides`) in turns; sets its columns, rates in the row's unit (steps or tokens)."""
    runs = {name: side.run or measure.timed_calls(side.call) for name, side in sides.items()}
    seconds = measure.interleaved_seconds(runs, repeats, calls_per_turn)
    rate = {name: side.steps * units_per_step / seconds[name] for name, side in sides.items()}
    j = sides["jaxdl"]
    res.jaxdl, res.jaxdl_compile_s, res.jaxdl_mem_mib, res.jaxdl_footprint_mib = (
        rate["jaxdl"], j.compile_s, j.mem_mib, j.footprint_mib)
    res.ceiling = rate.get("plain")
    if "torch" in sides:
        res.torch, res.torch_mem_mib, res.torch_kept = rate["torch"], sides["torch"].mem_mib, rate["torch_kept"]


# --- shared inputs ---------------------------------------------------------------------------

def random_images(n: int, seed: int = 0) -> dict:
    gen = np.random.default_rng(seed)
    return {"image": gen.random((n, 28, 28, 1), dtype=np.float32),
            "label": gen.integers(0, 10, n).astype(np.int32)}


def random_indices(steps: int, batch: int, seed: int = 1) -> np.ndarray:
    """Distinct shuffled rows for every step: (steps, batch) into `steps * batch` examples."""
    return np.random.default_rng(seed).permutation(steps * batch).reshape(steps, batch).astype(np.int32)


# --- rows --------------------------------------------------------------------------------------

def mlp_inputs(sz):
    """The MLP row's config, images and batch indices, as both sides build them from `sz`."""
    hidden, batch, num_steps = sz.mlp_hidden, sz.batch, sz.steps
    # lecun-normal, as torch_models reproduces (mnist_mlp's default is Glorot-uniform; no cost difference).
    config = config_for("mnist_mlp", [f"model.hidden={tuple(hidden)}", f"data.batch_size={batch}",
                                      "model.kernel_init=lecun_normal"])
    return config, random_images(num_steps * batch), random_indices(num_steps, batch)


def mlp_row(sz, torch_ok: bool) -> Result:
    config, data, idx = mlp_inputs(sz)
    sizes = (784, *sz.mlp_hidden, 10)
    flops = 3 * 2 * sz.batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    res = Result("mlp", f"MLP {'-'.join(map(str, sizes))} b{sz.batch}, Adam (mnist_mlp)", "steps/s",
                 flops=flops)
    sides = {"jaxdl": jaxdl_steps(config, data, idx),
             "plain": plain_jax_mlp_steps(sizes, data, idx, config.optimizer.learning_rate)}
    with torch_worker.sides("mlp", sz, torch_ok) as torch_procs:
        time_sides(res, sides | torch_procs, sz.repeats, sz.calls_per_turn)
    res.note = "plain JAX: bare jnp MLP + optax.adam in a scan (no NNX merge, metrics, injected hparams)"
    return res


def cnn_inputs(sz):
    """The CNN row's config, images and batch indices, as both sides build them from `sz`."""
    config = config_for("mnist_cnn", [f"model.features={tuple(sz.cnn_features)}", f"data.batch_size={sz.batch}"])
    return config, random_images(sz.cnn_steps * sz.batch), random_indices(sz.cnn_steps, sz.batch)


def cnn_row(sz, torch_ok: bool) -> Result:
    config, data, idx = cnn_inputs(sz)
    hw, c_in, fwd = 28, 1, 0
    for c_out in sz.cnn_features:  # VALID 3x3 conv then 2x2 pool
        fwd += 2 * (hw - 2) ** 2 * 9 * c_in * c_out
        hw, c_in = (hw - 2) // 2, c_out
    fwd += 2 * hw * hw * c_in * 10
    features = sz.cnn_features
    res = Result("cnn", f"MNIST CNN conv{features[0]}-conv{features[1]}-dense b{sz.batch}, Adam (mnist_cnn)",
                 "steps/s", flops=3 * sz.batch * fwd)
    sides = {"jaxdl": jaxdl_steps(config, data, idx)}
    impl = "im2col" if jax.default_backend() == "cpu" else "XLA conv"
    res.note = f"jaxdl conv={config.model.conv} ({impl} on this backend); torch NCHW nn.Conv2d"
    with torch_worker.sides("cnn", sz, torch_ok) as torch_procs:
        time_sides(res, sides | torch_procs, sz.repeats, sz.calls_per_turn)
    return res


def sweep_row(sz, torch_ok: bool, data_dir: str) -> list[Result]:
    """64-member init sweep of mnist_mlp: `jaxdl.sweep.run` vs a torch loop and torch.func vmap."""
    from benchmarks import sweep_throughput as st

    args = st.parse_args([*sz.sweep_args, *(["--data-dir", data_dir] if data_dir else [])])
    batch = 128
    flops = 3 * 2 * batch * (784 * 100 + 100 * 10)
    name = f"init sweep of mnist_mlp 784-100-10 b{batch}, {args.members} members, Adam"
    cold_s, cold_steps = st.time_sweep(args, args.epochs)  # compiles
    with measure.PeakMemory("jaxdl") as mem:
        rate, _, _ = st.difference_rate(lambda e: st.time_sweep(args, e), args.base_epochs, args.epochs,
                                        args.repeats)
    common = dict(unit="model-steps/s", jaxdl=rate, flops=flops, jaxdl_compile_s=max(cold_s - cold_steps / rate, 0.0),
                  jaxdl_mem_mib=mem.mib)
    rows = [Result("sweep_loop", name + " (torch: loop over members)", **common),
            Result("sweep_vmap", name + " (torch: torch.func vmap)", **common)]
    note = (f"jaxdl.sweep.run, one vmapped program; difference of {args.base_epochs} and {args.epochs} epochs "
            "(per-run costs cancel); compile = cold run minus steady state")
    for r in rows:
        r.note = note
    if torch_ok:
        with torch_worker.TorchProcess("sweep", sz, data_dir) as proc:
            for r in rows:
                r.torch, r.torch_mem_mib = proc.results[r.row]
        with torch_worker.TorchProcess("sweep", sz, data_dir, keep_freed_memory=True) as proc:
            for r in rows:
                r.torch_kept = proc.results[r.row][0]
    return rows
