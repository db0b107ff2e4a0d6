"""Every notebook in notebooks/ runs top to bottom in small mode (JAXDL_NOTEBOOK_SMALL=1).

Notebooks are Jupytext percent-format .py files: each is converted with jupytext and
executed by nbclient in a fresh kernel, one test per notebook.
"""

import os
import pathlib
import re

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))
ROOT = NOTEBOOKS[0].parents[1] if NOTEBOOKS else None


def test_there_are_notebooks_and_they_only_import_jaxdl():
    assert len(NOTEBOOKS) >= 5
    for path in NOTEBOOKS:
        text = path.read_text()
        assert "JAXDL_NOTEBOOK_SMALL" in text, f"{path.name} has no small mode"
        assert 'tags=["parameters"]' in text, f"{path.name} has no parameters cell"
        # Library code lives in jaxdl: no model, optimiser or training-step code pasted in (except
        # the user's own model in bring_your_own, the point of that notebook).
        pasted_code = ("optax.", "value_and_grad", "import torch", "lax.scan")
        for pasted in (*pasted_code, *(() if path.stem == "bring_your_own" else ("nnx.Module",))):
            assert pasted not in text, f"{path.name} defines {pasted!r} itself"


def _skip_unless_its_data_is_here(path):
    """Skips, naming what is missing and how to get it, when an experiment the notebook names
    (any quoted experiment name) trains on optional data absent here."""
    from jaxdl import data, experiments
    from jaxdl.data import glove

    names = sorted(set(re.findall(r'"(\w+)"', path.read_text())) & set(experiments.EXPERIMENTS))
    for name in names:
        if name.endswith("_glove") and not glove.available():
            pytest.skip(f"{name} needs {glove.tarball_path()} ({glove.HOW_TO_GET})")
        ok, why = data.availability(experiments.get_config(name).data.name)
        if not ok:
            pytest.skip(f"{path.name} trains {name}: {why}")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_small_mode(path, data_dir, tmp_path, monkeypatch):
    _skip_unless_its_data_is_here(path)
    monkeypatch.setenv("JAXDL_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("JAXDL_DATA_DIR", data_dir)
    # The kernel is a fresh process: one CPU device (not the suite's 8 fake ones), jaxdl
    # importable, and the suite's compilation cache so reruns skip compiling.
    monkeypatch.setenv("XLA_FLAGS", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import jax

    if jax.config.jax_compilation_cache_dir:
        monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", jax.config.jax_compilation_cache_dir)
        monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                      resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    images = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no figure"
