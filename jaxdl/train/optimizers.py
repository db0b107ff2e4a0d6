"""Optimisers built from config as one `optax.chain`.

Chain order: L1/L2 penalty gradients -> clipping -> the optimiser's own scaling
-> schedule factor -> `-learning_rate`. The learning rate and L2 coefficient (and
momentum, Adam betas, AdamW weight decay) are injected with `optax.inject_hyperparams`,
so they are arrays in the optimiser state: the plateau rule or a sweep can change
them without retracing. Clipping thresholds and the warmup length are fixed at build
time unless `inject=` names them (a sweep that varies them per member); so is whether the
L2 term is in the step at all (only when `l2 > 0` or injected).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxdl.train import handwritten
from jaxdl.train.defaults import default_optimizer_config, default_schedule_config  # noqa: F401 (re-exported)
from jaxdl.train.schedules import make_schedule, traced_warmup

# The *_scratch optimisers are jaxdl.train.handwritten's, written from their update equations.
SCRATCH = ("sgd_scratch", "momentum_scratch", "nesterov_scratch", "adagrad_scratch")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "adam", "adamw", *SCRATCH)
# Fixed at build time unless `make_optimizer(..., inject=...)` names them. `l2`'s value is always
# in the state, but its term is compiled in only when nonzero or injected (see `make_optimizer`).
INJECTABLE = ("clip_value", "clip_norm", "warmup_steps", "l2")
_MOMENTUM = ("momentum", "nesterov", "momentum_scratch", "nesterov_scratch")


# Leaves with these names are never weights, whatever their rank: models that stack
# layers along a leading axis (scanned transformers) have 2-D biases and norm scales.
NOT_WEIGHTS = ("bias", "scale")


def _is_weight(path, p) -> bool:
    last = path[-1] if path else None
    name = getattr(last, "key", getattr(last, "name", None))
    return jnp.ndim(p) >= 2 and name not in NOT_WEIGHTS


def weights_mask(params: optax.Params) -> optax.Params:
    """True for weights (ndim >= 2, not named bias/scale), False for biases, norm scales, scalars."""
    return jax.tree_util.tree_map_with_path(_is_weight, params)


def _every_param(params: optax.Params) -> optax.Params:
    """True for every leaf: PyTorch's optimisers decay biases too unless told otherwise."""
    return jax.tree.map(lambda _: True, params)


def _add_penalty_grad(
    coeff: float, grad_fn: Callable[[jax.Array], jax.Array], decay_biases: bool = False
) -> optax.GradientTransformation:
    """Adds `coeff * grad_fn(w)` to the gradient of every weight (`weights_mask`), leaving biases
    alone unless `decay_biases`."""

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("penalty transformations need `params` in update()")
        updates = jax.tree_util.tree_map_with_path(
            lambda path, g, w: g + coeff * grad_fn(w) if decay_biases or _is_weight(path, w) else g,
            updates, params
        )
        return updates, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def add_l2(coeff: float, decay_biases: bool = False) -> optax.GradientTransformation:
    """Gradient of the L2 penalty `coeff/2 * sum(w**2)` over weights (ndim >= 2).

    Placed before the optimiser, this equals adding the penalty to the loss
    (classic L2 regularisation, not decoupled weight decay). Nielsen writes the
    penalty as `(lambda / 2n) * sum(w**2)` with n the training-set size, so use
    `coeff = lambda / n`.
    """
    return _add_penalty_grad(coeff, lambda w: w, decay_biases)


def add_l1(coeff: float, decay_biases: bool = False) -> optax.GradientTransformation:
    """(Sub)gradient of the L1 penalty `coeff * sum(|w|)` over weights (ndim >= 2).

    Nielsen's `(lambda / n) * sum(|w|)` corresponds to `coeff = lambda / n`.
    """
    return _add_penalty_grad(coeff, jnp.sign, decay_biases)


def _validate(cfg: ml_collections.ConfigDict) -> None:
    if cfg.name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {cfg.name!r}; valid: {', '.join(OPTIMIZERS)}")
    for field in ("learning_rate", "clip_value", "clip_norm", "l1", "l2", "weight_decay"):
        if cfg[field] < 0:
            raise ValueError(f"{field} must be >= 0, got {cfg[field]}")
    if cfg.name in _MOMENTUM and not 0.0 <= cfg.momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {cfg.momentum}")
    if cfg.name in ("adam", "adamw") and not (0.0 <= cfg.b1 < 1.0 and 0.0 <= cfg.b2 < 1.0):
        raise ValueError(f"b1 and b2 must be in [0, 1), got {cfg.b1}, {cfg.b2}")


def make_optimizer(
    cfg: ml_collections.ConfigDict, *, total_steps: int, inject: tuple[str, ...] = (), ema_decay: float = 0.0
) -> optax.GradientTransformation:
    """Builds the optimiser described by `cfg` (fields: `default_optimizer_config`); with
    `ema_decay` > 0 its state also keeps an EMA of the params (`ema_of_params`).

    `update` must be given `params` (penalties and decoupled decay read them).
    `momentum`/`nesterov` use optax's form `v <- g + mu * v`, `w <- w - lr * v`.
    `inject` names values that are otherwise fixed at build time but may be injected
    too (`INJECTABLE`: a sweep varying them per member); the updates are the same.
    The injected `l2` acts only where `cfg.l2 > 0` or `inject` names it.
    """
    _validate(cfg)
    if unknown := set(inject) - set(INJECTABLE):
        raise ValueError(f"cannot inject {', '.join(sorted(unknown))}; injectable: {', '.join(INJECTABLE)}")
    # Both also check the schedule now, not when the optimiser is first initialised.
    fixed_schedule = make_schedule(cfg.schedule, total_steps)
    if "warmup_steps" in inject:
        traced_warmup(cfg.schedule, total_steps, 0)
    decay_biases = bool(cfg.get("decay_biases", False))
    # At l2=0, g + 0 * w changes no update but costs Adam's moment passes a read of every weight.
    use_l2 = cfg.l2 > 0 or "l2" in inject
    # Everything but the injected scalars is closed over, fixed at build time.
    prefix = []
    if cfg.l1 > 0:
        prefix.append(add_l1(cfg.l1, decay_biases))

    # Explicit parameters: inject_hyperparams binds by signature and only injects
    # numeric arguments; the ones left at None are unused by this optimiser.
    def chain(
        learning_rate: jax.Array,
        l2: jax.Array,
        momentum: jax.Array | None = None,
        b1: jax.Array | None = None,
        b2: jax.Array | None = None,
        weight_decay: jax.Array | None = None,
        clip_value: jax.Array | None = None,
        clip_norm: jax.Array | None = None,
        warmup_steps: jax.Array | None = None,
    ) -> optax.GradientTransformation:
        schedule = fixed_schedule if warmup_steps is None else traced_warmup(cfg.schedule, total_steps, warmup_steps)
        clip = _clipping(cfg, clip_value, clip_norm)
        if cfg.name in SCRATCH:
            # The rate sits outside every hand-written state, so the schedule factor may
            # follow it: -lr * factor * direction either way.
            step = [_scratch(cfg, learning_rate, momentum), optax.scale_by_schedule(schedule)]
        else:
            step = [_core(cfg, momentum, b1, b2, weight_decay), optax.scale_by_schedule(schedule),
                    optax.scale_by_learning_rate(learning_rate)]  # multiplies by -learning_rate
        return optax.chain(
            *prefix,
            # identity (same empty state) when off, so the state's structure does not depend on l2
            add_l2(l2, decay_biases) if use_l2 else optax.identity(),
            *clip,
            *step,
        )

    hparams = {**_injected(cfg), **{name: _value(cfg, name) for name in inject}}
    tx = optax.inject_hyperparams(chain)(**hparams)
    if not 0.0 <= ema_decay < 1.0:
        raise ValueError(f"train.ema_decay must be in [0, 1) (0 = off), got {ema_decay}")
    return optax.chain(tx, ema_of_params(ema_decay)) if ema_decay > 0 else tx


def _value(cfg: ml_collections.ConfigDict, name: str):
    return cfg.schedule.warmup_steps if name == "warmup_steps" else cfg[name]


def _clipping(cfg: ml_collections.ConfigDict, clip_value: jax.Array | None, clip_norm: jax.Array | None):
    """Clipping by value, then by global norm: fixed (0 = off), or injected (a traced 0 = off)."""
    clip = []
    if clip_value is not None:
        clip.append(_when_positive(clip_value, optax.clip(clip_value)))
    elif cfg.clip_value > 0:
        clip.append(optax.clip(cfg.clip_value))
    if clip_norm is not None:
        clip.append(_when_positive(clip_norm, optax.clip_by_global_norm(clip_norm)))
    elif cfg.clip_norm > 0:
        clip.append(optax.clip_by_global_norm(cfg.clip_norm))
    return clip


def _when_positive(threshold: jax.Array, inner: optax.GradientTransformation) -> optax.GradientTransformation:
    """`inner` (a stateless clip) where `threshold > 0`, the updates untouched where it is 0 (off)."""

    def update_fn(updates, state, params=None):
        clipped, state = inner.update(updates, state, params)
        return jax.tree.map(lambda c, u: jnp.where(threshold > 0, c, u), clipped, updates), state

    return optax.GradientTransformation(inner.init, update_fn)


def _injected(cfg: ml_collections.ConfigDict) -> dict[str, float]:
    """The hyperparameters `cfg`'s optimiser keeps as arrays in its state."""
    hparams = {"learning_rate": cfg.learning_rate, "l2": cfg.l2}
    if cfg.name in _MOMENTUM:
        hparams["momentum"] = cfg.momentum
    elif cfg.name in ("adam", "adamw"):
        hparams.update(b1=cfg.b1, b2=cfg.b2)
    if cfg.name == "adamw":
        hparams["weight_decay"] = cfg.weight_decay
    return hparams


def _core(
    cfg: ml_collections.ConfigDict, momentum: jax.Array | None, b1: jax.Array | None, b2: jax.Array | None,
    weight_decay: jax.Array | None,
) -> optax.GradientTransformation:
    """The optax optimiser's own gradient scaling, before the schedule and learning rate."""
    if cfg.name == "sgd":
        return optax.identity()
    if cfg.name in ("momentum", "nesterov"):
        return optax.trace(decay=momentum, nesterov=cfg.name == "nesterov")
    if cfg.name == "adagrad":
        return optax.scale_by_rss(cfg.initial_accumulator_value, cfg.adagrad_eps)
    adam = optax.scale_by_adam(b1, b2, cfg.eps)
    if cfg.name == "adam":
        return adam
    mask = _every_param if cfg.get("decay_biases", False) else weights_mask
    return optax.chain(adam, optax.add_decayed_weights(weight_decay, mask=mask))


def _scratch(
    cfg: ml_collections.ConfigDict, learning_rate: jax.Array, momentum: jax.Array | None
) -> optax.GradientTransformation:
    """The hand-written optimiser, learning rate (and its minus sign) included."""
    if cfg.name == "sgd_scratch":
        return handwritten.gradient_descent(learning_rate)
    if cfg.name == "adagrad_scratch":
        return handwritten.adagrad(learning_rate, cfg.initial_accumulator_value, cfg.adagrad_eps)
    return handwritten.momentum(learning_rate, momentum, nesterov=cfg.name == "nesterov_scratch")


class EmaParamsState(NamedTuple):
    ema_params: optax.Params


def ema_of_params(decay: float) -> optax.GradientTransformation:
    """Keeps `ema <- decay * ema + (1 - decay) * params` after every update, starting at the
    initial params (no bias correction); the updates pass through unchanged. Last in a chain,
    so it sees the final updates. In the optimiser state, it is checkpointed, sharded and
    vmapped with it."""

    def init_fn(params):
        # A copy: the state is donated to the step, and one buffer cannot be donated twice.
        return EmaParamsState(ema_params=jax.tree.map(jnp.copy, params))

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("ema_of_params needs `params` in update()")
        new_params = optax.apply_updates(params, updates)
        ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, state.ema_params, new_params)
        return updates, EmaParamsState(ema_params=ema)

    return optax.GradientTransformation(init_fn, update_fn)


def eval_params(params: optax.Params, opt_state: optax.OptState) -> optax.Params:
    """The params to evaluate and keep: the EMA when the optimiser keeps one, else `params`."""
    ema = optax.tree.get(opt_state, "ema_params")
    return params if ema is None else ema


def get_learning_rate(opt_state: optax.OptState) -> jax.Array:
    """The injected base learning rate (before the schedule factor)."""
    lr = optax.tree.get(opt_state, "learning_rate")
    if lr is None:
        raise KeyError("no injected learning_rate in this optimizer state")
    return lr


def set_learning_rate(opt_state: optax.OptState, value: float | jax.Array) -> optax.OptState:
    """Returns a new state whose base learning rate is `value`; `opt_state` is untouched."""
    old = get_learning_rate(opt_state)
    # Same dtype and no weak type as the old leaf, so a jitted step is not retraced.
    return optax.tree.set(opt_state, learning_rate=jnp.asarray(value, dtype=old.dtype))
