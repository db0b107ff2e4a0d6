"""`jax.jit` for the small programs a run compiles besides its train and eval steps: the initial
state, an epoch's data order, the finiteness check after each chunk.

On XLA:CPU these are compiled at LLVM optimisation level 2 instead of the default 3. They run
once (or are tiny), so their speed is irrelevant, but their threefry hashing is slow to
optimise: at level 3 mnist_cnn's initial state took 2.5 CPU s to compile, at level 2 0.6 s.
XLA:CPU compiles without fast-math, so the level changes how fast the code is, not what it
computes: every experiment's initial state is bit-identical at levels 2 and 3 (checked; the
test checks one). Level 0 is not: it changes instruction selection and with it some bits.
Programs without floating-point arithmetic (the run's keys, an epoch's order: threefry hashing
and a sort of integers) compile at level 0, which cannot change an integer result: ~0.06 and
~0.1 s less each for a cold run (tests compare both with their default compile).
Other backends compile these programs as usual.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax


def quick_jit(fun: Callable, *, integer_only: bool = False, **jit_kwargs) -> Callable:
    """`jax.jit(fun, **jit_kwargs)`, compiled for compile time on CPU. The backend is read at the
    first call, so defining one (at import) starts no backend. `integer_only`: `fun` does no
    floating-point arithmetic, so the lowest level computes the same bits."""
    jitted: dict[str, Callable] = {}

    @functools.wraps(fun)
    def call(*args, **kwargs):
        backend = jax.default_backend()
        if backend not in jitted:
            options = {"xla_backend_optimization_level": 0 if integer_only else 2} if backend == "cpu" else None
            jitted[backend] = jax.jit(fun, compiler_options=options, **jit_kwargs)
        return jitted[backend](*args, **kwargs)

    return call
