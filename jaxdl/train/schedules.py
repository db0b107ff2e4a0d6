"""Learning-rate schedules as multiplicative factors, plus Nielsen's plateau rule.

Schedules return a factor of the base learning rate (1.0 = base lr) rather than
the learning rate itself, so the base rate stays a plain scalar hyperparameter
in the optimiser state (see `jaxdl.train.optimizers`) that can be set or
vmapped without rebuilding the schedule.
"""
from __future__ import annotations

import flax
import jax.numpy as jnp
import ml_collections
import optax

from jaxdl.train.defaults import default_schedule_config  # noqa: F401 (re-exported)

SCHEDULES = ("constant", "step", "exponential", "cosine", "noam", "plateau")


def make_schedule(cfg: ml_collections.ConfigDict, total_steps: int) -> optax.Schedule:
    """Returns step -> multiplicative lr factor for schedule `cfg.name`.

    `step` and `exponential` both compute `decay_rate ** (step / decay_every)`,
    `step` floored to whole multiples (staircase). `cosine` decays from 1 to
    `end_factor` at `total_steps`. `plateau` is 1.0 here: it is applied by the
    training loop through `plateau_update` and `set_learning_rate`, because it
    depends on validation metrics the gradient step never sees.

    With `warmup_steps > 0` the factor first rises linearly from 0 (at step 0)
    to 1 (at `warmup_steps`), and the decay schedules start counting after it.
    `noam` has its own warmup (see `noam_factor`).
    """
    warmup = int(cfg.warmup_steps)
    if warmup < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup}")
    if cfg.name == "noam":
        return noam_factor(warmup)
    if cfg.name in ("constant", "plateau"):
        schedule = optax.constant_schedule(1.0)
    elif cfg.name in ("step", "exponential"):
        if cfg.decay_every <= 0 or cfg.decay_rate <= 0:
            raise ValueError(
                f"{cfg.name} schedule needs decay_every > 0 and decay_rate > 0, "
                f"got {cfg.decay_every}, {cfg.decay_rate}"
            )
        schedule = optax.exponential_decay(
            1.0, cfg.decay_every, cfg.decay_rate, staircase=cfg.name == "step"
        )
    elif cfg.name == "cosine":
        if total_steps <= warmup:
            raise ValueError(f"cosine needs total_steps ({total_steps}) > warmup_steps ({warmup})")
        # alpha is the final factor: (1 - alpha) * cos_part + alpha.
        schedule = optax.cosine_decay_schedule(1.0, total_steps - warmup, alpha=cfg.end_factor)
    else:
        raise ValueError(f"unknown schedule {cfg.name!r}; valid: {', '.join(SCHEDULES)}")
    if warmup == 0:
        return schedule
    # join_schedules shifts later pieces, so decay begins at the end of warmup.
    return optax.join_schedules([optax.linear_schedule(0.0, 1.0, warmup), schedule], [warmup])


def traced_warmup(cfg: ml_collections.ConfigDict, total_steps: int, warmup_steps) -> optax.Schedule:
    """`make_schedule` with `warmup_steps` a traced value (an injected hyperparameter, so sweep
    members may differ in it): the same factors, for the schedules whose decay does not depend on
    the warmup length (constant, plateau, step, exponential)."""
    if cfg.name not in ("constant", "plateau", "step", "exponential"):
        raise ValueError(f"a traced warmup needs a constant, plateau, step or exponential schedule, not {cfg.name!r}")
    after = make_schedule(_without_warmup(cfg), total_steps)

    def schedule(step):
        # optax.linear_schedule(0, 1, w) joined to `after` at w, written with a traced w.
        ramp = (0.0 - 1.0) * (1 - jnp.clip(step, 0, warmup_steps) / warmup_steps) + 1.0
        warm = jnp.where(step < warmup_steps, ramp, after(step - warmup_steps))
        return jnp.where(warmup_steps > 0, warm, after(step))

    return schedule


def _without_warmup(cfg: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    cfg = cfg.copy_and_resolve_references()
    cfg.warmup_steps = 0
    return cfg


def noam_factor(warmup_steps: int) -> optax.Schedule:
    """Vaswani et al.'s schedule as a factor peaking at 1: min(n / w, sqrt(w / n)), n = step + 1.

    Linear warmup over `w` steps, then decay as 1/sqrt(step). The paper's rate
    d_model**-0.5 * min(n**-0.5, n * w**-1.5) is this factor times a base
    learning rate of (d_model * w)**-0.5 (times the Annotated Transformer's `factor`).
    """
    if warmup_steps <= 0:
        raise ValueError(f"the noam schedule needs warmup_steps > 0, got {warmup_steps}")
    w = float(warmup_steps)

    def schedule(step):
        n = jnp.asarray(step, jnp.float32) + 1.0
        return jnp.minimum(n / w, jnp.sqrt(w / n))

    return schedule


@flax.struct.dataclass
class PlateauState:
    """Host-side plateau-rule state (a pytree, so it checkpoints with the rest)."""

    best: float
    bad_epochs: int
    scale: float  # current lr as a fraction of the initial lr


def plateau_init() -> PlateauState:
    # NaN best: the first metric always counts as an improvement, in either mode.
    return PlateauState(best=float("nan"), bad_epochs=0, scale=1.0)


def plateau_update(
    state: PlateauState,
    metric: float,
    *,
    patience: int,
    factor: float,
    mode: str = "max",
    min_delta: float = 0.0,
) -> PlateauState:
    """One epoch of Nielsen's rule (Neural Networks and Deep Learning, ch. 3).

    The metric improves when it beats `best` by more than `min_delta` (higher for
    `mode="max"`, e.g. accuracy; lower for `"min"`, e.g. loss). After `patience`
    epochs in a row without improvement the scale is multiplied by `factor`
    (Nielsen: halve it), `bad_epochs` restarts at 0 and `best` is kept.
    """
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    if patience < 1 or not 0.0 < factor < 1.0:
        raise ValueError(f"need patience >= 1 and 0 < factor < 1, got {patience}, {factor}")
    metric = float(metric)
    gain = metric - state.best if mode == "max" else state.best - metric
    if state.best != state.best or gain > min_delta:  # best is NaN before the first epoch
        return state.replace(best=metric, bad_epochs=0)
    if state.bad_epochs + 1 >= patience:
        return state.replace(bad_epochs=0, scale=state.scale * factor)
    return state.replace(bad_epochs=state.bad_epochs + 1)


def plateau_should_stop(state: PlateauState, min_scale: float) -> bool:
    """Nielsen stops once the lr has fallen to `min_scale` (1/128) of its start."""
    # Small tolerance: repeated multiplication by e.g. 0.1 is not exact in floats.
    return state.scale <= min_scale * (1.0 + 1e-9)
