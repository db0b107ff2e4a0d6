"""FLOPs of a train step from XLA's cost analysis, and the peak FLOP/s that MFU divides by.

XLA's HLO cost analysis counts a while loop's body once, whatever its trip count, so a
`lax.scan` over GPT's L blocks (or an RNN's T time steps) would count one block (one
step). `step_flops` adds the missing (length - 1) bodies of every scan, recursively.
The analysis runs on the lowered (not yet compiled) step: it costs a trace and no
compile, so every run can afford it; on mnist_mlp and a 4-layer GPT it agrees with
the compiled program's count within 1%. A run counts its own chunk program
(`chunk_step_flops`), whose trace and lowering jit then reuses for the first chunk.
"""

from __future__ import annotations

import jax
from jax.extend import core as jex_core

# Peak dense bf16 FLOP/s per device, by a substring of `device.device_kind` (lower case;
# the first match wins, so more specific names come first). MFU is against these.
KNOWN_PEAKS = (
    ("h100 pcie", 756e12),
    ("h100", 989e12),
    ("h200", 989e12),
    ("a100", 312e12),
    ("v100", 125e12),
    ("l4", 121e12),
    ("tpu v4", 275e12),
    ("tpu v5 lite", 197e12),
    ("tpu v5e", 197e12),
    ("tpu v5", 459e12),
    ("tpu v6 lite", 918e12),
)


def peak_flops(given: float, device_kind: str) -> float:
    """Per-device peak FLOP/s: `given` (train.peak_flops) if > 0, else the table's entry for
    `device_kind`, else 0 (unknown: MFU is left out)."""
    if given > 0:
        return float(given)
    kind = device_kind.lower()
    return next((peak for name, peak in KNOWN_PEAKS if name in kind), 0.0)


def step_flops(fn, *args) -> float | None:
    """FLOPs of one call of `fn(*args)` (args may be `jax.ShapeDtypeStruct`s), scans counted
    in full; None when the backend's cost analysis gives no FLOP count."""
    return traced_flops(jax.jit(fn).trace(*args))


def traced_flops(traced: jax.stages.Traced) -> float | None:
    """FLOPs of one call of a traced jitted function, scans counted in full."""
    flops = _lowered_flops(traced.lower())  # one trace for both the count and the scans
    return None if flops is None else flops + _scan_correction(traced.jaxpr.jaxpr)


def chunk_step_flops(traced: jax.stages.Traced) -> float | None:
    """FLOPs of one step of a traced chunk program: S steps as one top-level `lax.scan`. XLA
    counts that scan's body, the step, once; scans nested in it are counted in full."""
    flops = _lowered_flops(traced.lower())
    if flops is None:
        return None
    for eqn in traced.jaxpr.jaxpr.eqns:
        if eqn.primitive.name == "scan":
            flops += _scan_correction(eqn.params["jaxpr"].jaxpr)
        else:
            flops += sum(_scan_correction(sub) for sub in _subjaxprs(eqn.params))
    return flops


def _xla_flops(closed: jex_core.ClosedJaxpr) -> float | None:
    avals = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in closed.in_avals]
    return _lowered_flops(jax.jit(lambda *xs: jex_core.jaxpr_as_fun(closed)(*xs)).lower(*avals))


def _lowered_flops(lowered) -> float | None:
    analysis = lowered.cost_analysis()
    if isinstance(analysis, list):  # older jax: one dict per program
        analysis = analysis[0] if analysis else None
    return None if not analysis or "flops" not in analysis else float(analysis["flops"])


def _scan_correction(jaxpr: jex_core.Jaxpr) -> float:
    """FLOPs that XLA's count of `jaxpr` misses: (length - 1) more bodies of each scan."""
    extra = 0.0
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "scan":
            body, length = eqn.params["jaxpr"], eqn.params["length"]
            extra += (length - 1) * (_xla_flops(body) or 0.0) + length * _scan_correction(body.jaxpr)
            continue
        for sub in _subjaxprs(eqn.params):
            extra += _scan_correction(sub)
    return extra


def _subjaxprs(params: dict):
    """The jaxprs nested in an equation's params (jit, remat, custom_vjp, cond branches...)."""
    for value in params.values():
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(item, jex_core.ClosedJaxpr):
                yield item.jaxpr
            elif isinstance(item, jex_core.Jaxpr):
                yield item
