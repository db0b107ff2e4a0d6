"""Loading a finished run back: its trained state and config, at any kept checkpoint; clear errors otherwise."""

import shutil

import chex
import numpy as np
import pytest

from jaxdl import experiments
from jaxdl.runs import saved


def test_restore_gives_back_the_trained_state_and_config(latent_run, tmp_path, monkeypatch):
    config, workdir, result = latent_run
    restored_config, model, state = saved.restore(workdir)
    assert restored_config.to_dict() == config.to_dict()  # tuples stay tuples
    assert restored_config.model.hidden == (10, 3)
    chex.assert_trees_all_equal(state.params, result.state.params)
    assert int(state.step) == int(result.state.step) == saved.checkpoint_steps(workdir)[-1]
    first = saved.restore(workdir, saved.checkpoint_steps(workdir)[0])[2]
    assert int(first.step) == 10
    assert model.apply(state.params, np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 10)

    # An option the experiment gained after the run was saved restores at its default.
    make_config = experiments.EXPERIMENTS[config.experiment]

    def with_new_option():
        c = make_config()
        c.new_option = False
        return c

    monkeypatch.setitem(experiments.EXPERIMENTS, config.experiment, with_new_option)
    restored_config, _, state = saved.restore(workdir)
    assert restored_config.new_option is False
    chex.assert_trees_all_equal(state.params, result.state.params)
    monkeypatch.undo()

    with pytest.raises(ValueError, match=f"no {tmp_path}/config.json"):
        saved.restore(str(tmp_path))
    shutil.copy(f"{workdir}/config.json", tmp_path)
    with pytest.raises(ValueError, match=f"no checkpoints.*{tmp_path}/checkpoints"):
        saved.restore(str(tmp_path))
