"""`jax.jit` for the small programs a run compiles besides its train and eval steps: the run's
keys, the initial state, an epoch's data order, the finiteness check after each chunk.

They run once (or are tiny), so on XLA:CPU they are compiled for compile time, with options
that leave every bit of their results as the default compile's (the tests compare them):
- LLVM level 2 instead of 3. Threefry hashing is slow to optimise: at level 3 mnist_cnn's
  initial state took 2.5 CPU s to compile, at level 2 0.6 s. XLA:CPU compiles without
  fast-math, so the level changes how fast the code is, not what it computes: every
  experiment's initial state is bit-identical at levels 2 and 3. Level 0 is not: it changes
  instruction selection and with it some bits of floating-point results.
- Initial states: XLA's older loop emitters instead of its fusion emitters, 0.75x the compile
  time over the 38 experiments' initial states (transformer_copy 2.1 -> 1.5-2.0 s), all 38
  bit-identical. The finiteness check keeps the fusion emitters (0.5 s against 1.1 for the
  GPT's state).
- No floating-point arithmetic (the run's keys, an epoch's order: threefry hashing and a sort
  of integers): level 0 and the loop emitters, which cannot change an integer result. An
  epoch's order compiles in 0.10-0.15 s instead of 0.41, the keys in 0.06-0.09 instead of 0.19.
Other backends compile these programs as usual.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax

_LOOP_EMITTERS = {"xla_cpu_use_fusion_emitters": False}
CHECK = {"xla_backend_optimization_level": 2}
INIT = {**CHECK, **_LOOP_EMITTERS}
INTEGER = {"xla_backend_optimization_level": 0, **_LOOP_EMITTERS}


def quick_jit(fun: Callable, *, cpu_options: dict = CHECK, **jit_kwargs) -> Callable:
    """`jax.jit(fun, **jit_kwargs)`, compiled with `cpu_options` (`CHECK`, `INIT` or `INTEGER`,
    above) on CPU. The backend is read at the first call, so defining one (at import) starts no
    backend."""
    jitted: dict[str, Callable] = {}

    @functools.wraps(fun)
    def call(*args, **kwargs):
        backend = jax.default_backend()
        if backend not in jitted:
            options = cpu_options if backend == "cpu" else None
            jitted[backend] = jax.jit(fun, compiler_options=options, **jit_kwargs)
        return jitted[backend](*args, **kwargs)

    return call
