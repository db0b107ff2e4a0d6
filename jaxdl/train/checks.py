"""A task checked against one example batch before anything is compiled.

`check_task` traces the model's `init`, the task's `loss` and `eval_sums` abstractly
(`jax.eval_shape` / `jax.make_jaxpr`: shapes only, no FLOPs) and turns what would
otherwise surface as a traceback from inside `jit` (or as a run that trains nothing)
into a one-line `ValueError` naming what is wrong and what is expected.
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core

from jaxdl.tasks import Task
from jaxdl.train import precision

_APPLY_CALL = "apply(params, x, *, key=None, train=False)"
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def check_task(task: Task, example_batch: dict[str, Any], *, key: jax.Array) -> None:
    """Raises a one-line ValueError if `task` cannot train on batches shaped like `example_batch`
    (a dict of ShapeDtypeStructs or arrays, batch axis first); `key` is a key of the loop's kind."""
    batch = jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype), example_batch)
    _check_apply_signature(task.model)
    params = _abstract_params(task.model, key)
    _check_loss(task, params, batch, key)
    _check_eval_sums(task, params, batch, key)


def check_step_options(train, batch_size: int) -> None:
    """Raises a one-line ValueError for a `train.precision` or `train.grad_accum_steps` that the
    step cannot use with batches of `batch_size` (`train` is the config's train section)."""
    precision.check(train.get("precision", "float32"))
    k = train.get("grad_accum_steps", 1)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"train.grad_accum_steps must be an integer >= 1 (1 = off), got {k!r}")
    if batch_size % k:
        divisors = [d for d in range(1, batch_size + 1) if batch_size % d == 0]
        raise ValueError(f"train.grad_accum_steps={k} does not divide data.batch_size={batch_size} into "
                         f"equal microbatches; valid: {', '.join(map(str, divisors))}")


def _check_apply_signature(model) -> None:
    try:
        signature = inspect.signature(model.apply)
    except (TypeError, ValueError):  # a callable without a signature (a builtin): nothing to check
        return
    try:
        bound = signature.bind_partial(None, None, key=None, train=False)
    except TypeError:
        bound = None
    # Extra keyword-only arguments are allowed: a task may pass more (MADE's masks).
    unbound = bound is None or any(
        p.kind in _POSITIONAL and p.default is p.empty and p.name not in bound.arguments
        for p in signature.parameters.values())
    if unbound:
        raise ValueError(f"model {model.name!r}: the loop's tasks call {_APPLY_CALL}; "
                         f"got an apply with signature {signature}")


def _abstract_params(model, key: jax.Array):
    """The shapes of `model.init(key)`, after checking it is a non-empty pytree of float arrays."""
    not_arrays = []

    def init(k):
        params = model.init(k)
        flat, _ = jax.tree_util.tree_flatten_with_path(params, is_leaf=lambda leaf: leaf is None)
        not_arrays.extend((path, leaf) for path, leaf in flat if not isinstance(leaf, (jax.Array, np.ndarray)))
        return None if not_arrays else params

    expected = f"model {model.name!r}: init(key) must return a pytree of floating-point arrays"
    try:
        params = jax.eval_shape(init, key)
    except Exception as e:  # whatever user code raises while tracing becomes one line
        raise ValueError(f"model {model.name!r}: init(key) failed: {_one_line(e)}") from None
    if not_arrays:
        path, leaf = not_arrays[0]
        raise ValueError(f"{expected}; got {type(leaf).__name__} at params{jax.tree_util.keystr(path)}")
    flat, _ = jax.tree_util.tree_flatten_with_path(params)
    if not flat:
        raise ValueError(f"{expected}; got {params!r}, which holds none")
    for path, leaf in flat:
        if not jnp.issubdtype(leaf.dtype, jnp.floating):  # gradients need floats
            raise ValueError(f"{expected}; got {leaf.dtype} at params{jax.tree_util.keystr(path)}")
    return params


def _check_loss(task: Task, params, batch: dict, key: jax.Array) -> None:
    """The loss traces on `batch`, returns (float scalar, {name: scalar}) and depends on the params."""
    try:
        jaxpr, (loss, metrics) = jax.make_jaxpr(
            lambda p, b, k: _pair(task.loss(p, b, key=k, train=True)), return_shape=True
        )(params, batch, key)
    except _NotAPair as e:
        raise ValueError(f"the loss must return (a scalar, a dict of metrics); got {e}") from None
    except Exception as e:
        raise ValueError(f"the loss failed on a batch of {_describe(batch)}: {_one_line(e)}") from None
    if not isinstance(loss, jax.ShapeDtypeStruct):
        raise ValueError(f"the loss must return (a scalar, a dict of metrics); got a loss of type "
                         f"{type(loss).__name__}")
    if loss.shape or not jnp.issubdtype(loss.dtype, jnp.floating):
        raise ValueError(f"the loss must return (a floating-point scalar, a dict of metrics); got a loss of "
                         f"shape {loss.shape} and dtype {loss.dtype}")
    if not isinstance(metrics, dict):
        raise ValueError(f"the loss must return (a scalar, a dict of metrics); got metrics of type "
                         f"{type(metrics).__name__}")
    _check_scalars("the loss's metrics must be scalars (means over the batch)", metrics)
    num_params = len(jax.tree.leaves(params))
    depends = _dependent_outputs(jaxpr.jaxpr, [True] * num_params + [False] * (len(jaxpr.jaxpr.invars) - num_params))
    if not depends[0]:
        raise ValueError("the loss does not depend on the params (no gradient path): it must be computed "
                         "from the model's outputs, not only from the batch, constants, integer values "
                         "(argmax, comparisons) or stop_gradient")


class _NotAPair(Exception):
    """The loss returned something other than a 2-tuple (its message says what)."""


def _pair(returned):
    if isinstance(returned, (tuple, list)) and len(returned) != 2:
        raise _NotAPair(f"a {len(returned)}-tuple")
    if not isinstance(returned, (tuple, list)):
        shape = getattr(returned, "shape", None)
        raise _NotAPair(type(returned).__name__ if shape is None else f"a single array of shape {tuple(shape)}")
    return tuple(returned)


def _check_eval_sums(task: Task, params, batch: dict, key: jax.Array) -> None:
    mask = jax.ShapeDtypeStruct(jax.tree.leaves(batch)[0].shape[:1], jnp.float32)
    try:
        sums = jax.eval_shape(lambda p, b, m, k: task.eval_sums(p, b, m, key=k), params, batch, mask, key)
    except Exception as e:
        raise ValueError(f"eval_sums failed on a batch of {_describe(batch)}: {_one_line(e)}") from None
    if not isinstance(sums, dict) or "count" not in sums:
        shown = sorted(sums) if isinstance(sums, dict) else type(sums).__name__
        raise ValueError(f"eval_sums must return a dict of sums including 'count' (the sum of the mask); got {shown}")
    _check_scalars("eval_sums must return scalars (sums over the rows where the mask is 1)", sums)


def _check_scalars(expected: str, values: dict) -> None:
    for path, leaf in jax.tree_util.tree_flatten_with_path(values)[0]:
        if leaf.shape:
            raise ValueError(f"{expected}; got {jax.tree_util.keystr(path)} of shape {leaf.shape}")


def _dependent_outputs(jaxpr: core.Jaxpr, dependent_in: list[bool]) -> list[bool]:
    """Which outputs of `jaxpr` a gradient can reach from the inputs marked in `dependent_in`.

    Forward propagation over the equations: an output depends on its equation's inputs, except
    through stop_gradient and through values of non-float dtype (which have no gradient). A nested
    `jit` is followed inside; other equations with sub-jaxprs (scan, cond, custom_jvp) count as
    depending on all their inputs, which can only miss a cut, never invent one.
    """
    dependent = {v for v, d in zip(jaxpr.invars, dependent_in) if d}

    def reached(v) -> bool:
        return isinstance(v, core.Var) and v in dependent

    for eqn in jaxpr.eqns:
        ins = [reached(v) for v in eqn.invars]
        if eqn.primitive.name == "jit":
            outs = _dependent_outputs(eqn.params["jaxpr"].jaxpr, ins)
        else:
            outs = [any(ins) and eqn.primitive.name != "stop_gradient"] * len(eqn.outvars)
        dependent.update(v for v, d in zip(eqn.outvars, outs) if d and _carries_gradient(v))
    return [reached(v) and _carries_gradient(v) for v in jaxpr.outvars]


def _carries_gradient(v) -> bool:
    return jnp.issubdtype(v.aval.dtype, jnp.inexact)


def _describe(tree) -> str:
    """`float32[32]`, or `{'image': float32[32,28,28,1], 'label': int32[32]}` for a pytree of them."""
    if isinstance(tree, jax.ShapeDtypeStruct):
        return f"{tree.dtype}[{','.join(map(str, tree.shape))}]"
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return "{" + ", ".join(f"{jax.tree_util.keystr(path, simple=True, separator='/')!r}: {_describe(leaf)}"
                           for path, leaf in flat) + "}"


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
