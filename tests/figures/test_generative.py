"""VAE and MADE figures from tiny runs: PNGs of the expected size; clear errors when a figure does not fit."""

import matplotlib.image
import numpy as np
import pytest

from jaxdl import cli
from jaxdl.figures import generative as fg


def _assert_png(path, size_inches):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (round(size_inches[1] * fg.DPI), round(size_inches[0] * fg.DPI))
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 20  # not blank


@pytest.mark.slow
@pytest.mark.parametrize("figure, size", [
    ("vae_reconstructions", fg.GRID_FIGSIZE), ("vae_samples", fg.GRID_FIGSIZE), ("vae_manifold", (5.0, 5.4)),
    ("vae_latents", (6.0, 5.0))])
def test_vae_figures(vae_run, figure, size, capsys):
    assert cli.main(["plot", "--workdir", vae_run, "--figure", figure]) == 0
    path = capsys.readouterr().out.strip()
    assert path.endswith(f"{figure}.png")
    _assert_png(path, size)


@pytest.mark.slow
def test_made_samples(made_run, capsys):
    assert cli.main(["plot", "--workdir", made_run, "--figure", "made_samples"]) == 0
    _assert_png(capsys.readouterr().out.strip(), fg.GRID_FIGSIZE)


def test_figures_refuse_runs_they_do_not_fit(vae_run, made_run, tmp_path):
    with pytest.raises(ValueError, match="needs a run of the made task.*trained the vae task"):
        fg.made_samples(vae_run)
    with pytest.raises(ValueError, match="needs a run of the vae task"):
        fg.vae_samples(made_run)
