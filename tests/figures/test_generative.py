"""VAE and MADE figures from tiny runs: PNGs of the expected size; clear errors when a figure does not fit."""

import json

import matplotlib.image
import numpy as np
import pytest

from jaxdl import cli
from jaxdl.figures import generative as fg

TINY = ["data.max_train_examples=400", "train.epochs=1", "train.progress_updates_per_epoch=1",
        "data.eval_batch_size=200"]


def _train(tmp_path_factory, data_dir, experiment, sets):
    workdir = str(tmp_path_factory.mktemp(experiment))
    args = [f"data.data_dir={data_dir}", *TINY, *sets]
    assert cli.main(["train", experiment, "--workdir", workdir, *[a for s in args for a in ("--set", s)]]) == 0
    return workdir


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory, data_dir):
    return _train(tmp_path_factory, data_dir, "vae_mnist",
                  ["model.latent_dim=2", "model.hidden=(64,)", "vae.iwae_samples=10", "vae.iwae_chunk=5"])


@pytest.fixture(scope="module")
def made_run(tmp_path_factory, data_dir):
    return _train(tmp_path_factory, data_dir, "made_mnist",
                  ["model.hidden=(64,)", "made.num_masks=4", "made.eval_masks=4"])


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
def test_made_samples_and_reevaluation(made_run, capsys):
    assert cli.main(["plot", "--workdir", made_run, "--figure", "made_samples"]) == 0
    _assert_png(capsys.readouterr().out.strip(), fg.GRID_FIGSIZE)
    # Re-evaluating with a 2-mask ensemble reproduces mask 0's NLL and changes only the ensemble.
    assert cli.main(["evaluate", "--workdir", made_run, "--best", "--split", "test",
                     "--set", "made.eval_masks=2"]) == 0
    assert "2-mask ensemble" in capsys.readouterr().out
    with open(f"{made_run}/evaluations.jsonl") as f:
        (record,) = [json.loads(line) for line in f]
    with open(f"{made_run}/metrics.jsonl") as f:
        trained = [json.loads(line) for line in f if '"test"' in line][-1]
    assert record["split"] == "test" and record["best"] and record["overrides"] == ["made.eval_masks=2"]
    np.testing.assert_allclose(record["loss"], trained["loss"], rtol=1e-5)
    assert cli.main(["evaluate", "--workdir", made_run, "--set", "model.hidden=(32,)"]) == 2
    assert "cannot change the model" in capsys.readouterr().err


def test_figures_refuse_runs_they_do_not_fit(vae_run, made_run, tmp_path):
    with pytest.raises(ValueError, match="needs a run of the made task.*trained the vae task"):
        fg.made_samples(vae_run)
    with pytest.raises(ValueError, match="needs a run of the vae task"):
        fg.vae_samples(made_run)


def test_learning_curves_of_a_generative_run_show_its_nll(made_run):
    from jaxdl import figures

    assert figures.curves._second_metric([{"step": 1, "epoch": 1, "split": "test", "time": 0.0, "loss": 1.0,
                                    "nll_ensemble": 2.0, "count": 3}]) == "nll_ensemble"
    matplotlib.image.imread(figures.learning_curves(made_run))
