"""Figures from a run's checkpoints: weight masks, the 3-unit latent space; figures that do not fit the run."""

import json

import matplotlib.image
import numpy as np
import pytest
from PIL import Image

from jaxdl import cli, figures
from jaxdl.runs import saved

TINY = ["data.max_train_examples=1000", "train.progress_updates_per_epoch=1"]


@pytest.fixture(scope="module")
def masks_run(tmp_path_factory, data_dir):
    workdir = str(tmp_path_factory.mktemp("masks"))
    sets = [f"data.data_dir={data_dir}", "train.epochs=3", *TINY]
    assert cli.main(["train", "nielsen_weight_masks", "--workdir", workdir,
                     *[a for s in sets for a in ("--set", s)]]) == 0
    return workdir


def _assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 50


def _gif_frames(path):
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        return gif.n_frames


def test_weight_masks_png_and_one_gif_frame_per_kept_checkpoint(masks_run, capsys):
    assert cli.main(["plot", "--workdir", masks_run, "--figure", "weight_masks"]) == 0
    png, gif = capsys.readouterr().out.split()
    assert png.endswith("weight_masks.png") and gif.endswith("weight_masks.gif")
    _assert_png(png)
    assert _gif_frames(gif) == len(saved.checkpoint_steps(masks_run)) == 3


def test_latent3_png_gif_and_the_4_9_ratio_per_epoch(latent_run, capsys):
    _, workdir, _ = latent_run
    assert cli.main(["plot", "--workdir", workdir, "--figure", "latent3"]) == 0
    png, gif, summary, ratios = capsys.readouterr().out.splitlines()
    assert ratios.startswith("d(4, 9) / mean distance between digit centroids, epoch 1 .. epoch 2:")
    _assert_png(png)
    assert _gif_frames(gif) == len(saved.checkpoint_steps(workdir)) == 2
    with open(summary) as f:
        ckpts = json.load(f)["checkpoints"]
    assert [c["epoch"] for c in ckpts] == [1, 2] and [c["step"] for c in ckpts] == [10, 20]
    for c in ckpts:
        assert np.isfinite(c["ratio_4_9"]) and c["ratio_4_9"] > 0
        assert np.asarray(c["centroids"]).shape == (10, 3)


def test_a_figure_that_does_not_fit_the_run_names_the_experiment_to_run(masks_run, latent_run, capsys):
    _, latent_dir, _ = latent_run
    assert cli.main(["plot", "--workdir", latent_dir, "--figure", "weight_masks"]) == 2
    err = capsys.readouterr().err
    assert "without hidden layers" in err and "hidden=(10, 3)" in err and "nielsen_weight_masks" in err
    with pytest.raises(ValueError, match="3 units.*hidden=\\(\\).*nielsen_latent3"):
        figures.latent3(masks_run)
