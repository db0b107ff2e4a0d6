"""Figures from a run's workdir: learning curves and Nielsen's weight masks (PNG + GIF)."""

import chex
import jax
import matplotlib.image
import numpy as np
import pytest
from PIL import Image

from jaxdl import cli, figures
from jaxdl.train import saved


def test_weight_masks_png_and_one_gif_frame_per_kept_checkpoint(tmp_path, data_dir, capsys):
    workdir = tmp_path / "masks"
    assert cli.main(["train", "nielsen_weight_masks", "--workdir", str(workdir), "--set",
                     f"data.data_dir={data_dir}", "--set", "train.epochs=3"]) == 0
    png, gif = figures.weight_masks(str(workdir))
    image = matplotlib.image.imread(png)
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 50
    with Image.open(gif) as frames:
        assert frames.n_frames == 3 == len(saved.checkpoint_steps(str(workdir)))
    config, model, state = saved.restore(str(workdir))
    assert config.experiment == "nielsen_weight_masks" and config.model.hidden == () and int(state.step) == 3 * 35
    chex.assert_shape(state.params["layers"][0]["kernel"], (784, 10))


def test_weight_masks_refuse_a_net_with_hidden_layers(tmp_path, data_dir, capsys):
    workdir = tmp_path / "mlp"
    assert cli.main(["train", "mnist_mlp", "--workdir", str(workdir), "--set", f"data.data_dir={data_dir}",
                     "--set", "train.num_steps=3"]) == 0
    assert cli.main(["plot", "--workdir", str(workdir), "--figure", "weight_masks"]) == 2
    assert "need a network without hidden layers" in capsys.readouterr().err
    with pytest.raises(ValueError, match="holds no run"):
        saved.restore(str(tmp_path / "nothing"))
    config, _, state = saved.restore(str(workdir))
    assert int(state.step) == 3 and config.model.hidden == (100,)
    chex.assert_tree_all_finite(jax.tree.leaves(state.params))
