"""Learning-rate schedules against their formulas by hand; the plateau rule on scripted metrics."""

import functools

import jax
import numpy as np
import pytest

from jaxdl.train import schedules as sched_lib
from tests.helpers import SCHEDULE_CASES

RTOL, ATOL = 1e-6, 1e-8


@pytest.mark.parametrize("name", SCHEDULE_CASES)
def test_schedule_factor(variant, name):
    overrides, factor = SCHEDULE_CASES[name]
    cfg = sched_lib.default_schedule_config()
    cfg.update(overrides)
    schedule = variant(sched_lib.make_schedule(cfg, total_steps=6))
    for t in range(9):  # past total_steps too: cosine must stay at end_factor
        np.testing.assert_allclose(schedule(t), factor(t), rtol=RTOL, atol=ATOL, err_msg=str(t))


def test_plateau_rule_on_scripted_accuracies():
    # patience 3, halve each time, stop at 1/8 of the initial lr.
    accuracies = [0.50, 0.60, 0.60, 0.55, 0.59, 0.70, 0.69, 0.70, 0.65, 0.71, 0.60, 0.60, 0.70]
    expected_scale = [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125]
    expected_best = [0.5, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.71, 0.71, 0.71, 0.71]
    state = sched_lib.plateau_init()
    for epoch, acc in enumerate(accuracies):
        assert not sched_lib.plateau_should_stop(state, min_scale=0.125), epoch
        state = sched_lib.plateau_update(state, acc, patience=3, factor=0.5)
        assert state.scale == pytest.approx(expected_scale[epoch]), epoch
        assert state.best == pytest.approx(expected_best[epoch]), epoch
    assert state.bad_epochs == 0  # reset by the last reduction
    assert sched_lib.plateau_should_stop(state, min_scale=0.125)


def test_plateau_rule_min_mode_and_min_delta():
    update = functools.partial(
        sched_lib.plateau_update, patience=2, factor=0.1, mode="min", min_delta=0.02
    )
    state = sched_lib.plateau_init()
    # Loss 1.0 -> 0.95 is an improvement of 0.05 > min_delta; 0.94 is not (0.01).
    for loss in [1.0, 0.95, 0.94]:
        state = update(state, loss)
    assert (state.best, state.bad_epochs, state.scale) == (0.95, 1, 1.0)
    state = update(state, 0.96)
    assert state.scale == pytest.approx(0.1) and state.bad_epochs == 0
    assert jax.tree.leaves(state) == [0.95, 0, pytest.approx(0.1)]  # a pytree, for checkpoints
    # min_scale 1/10 reached up to float rounding.
    assert sched_lib.plateau_should_stop(state, min_scale=0.1)


def test_noam_schedule_matches_the_paper_formula():
    d_model, warmup = 512, 4000
    cfg = sched_lib.default_schedule_config()
    cfg.update(name="noam", warmup_steps=warmup)
    factor = sched_lib.make_schedule(cfg, total_steps=1)
    base = (d_model * warmup) ** -0.5
    for step in (0, 1, 100, warmup - 1, warmup, 20000):
        n = step + 1
        paper = d_model ** -0.5 * min(n ** -0.5, n * warmup ** -1.5)
        np.testing.assert_allclose(base * float(factor(step)), paper, rtol=1e-6)
    assert float(factor(warmup - 1)) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["constant", "step", "exponential"])
def test_traced_warmup_equals_the_fixed_one(name):
    steps = np.arange(0, 20)
    for warmup in (0, 1, 7):
        cfg = sched_lib.default_schedule_config()
        cfg.update(name=name, warmup_steps=warmup, decay_every=3, decay_rate=0.5)
        fixed = sched_lib.make_schedule(cfg, total_steps=20)
        traced = jax.jit(jax.vmap(lambda s, w: sched_lib.traced_warmup(cfg, 20, w)(s), in_axes=(0, None)))
        np.testing.assert_allclose(traced(steps, warmup), [fixed(s) for s in steps], rtol=RTOL, atol=ATOL)
    cfg.name = "cosine"
    with pytest.raises(ValueError, match="a traced warmup needs a constant"):
        sched_lib.traced_warmup(cfg, 20, 1)
