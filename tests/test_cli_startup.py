"""A command's library import: no garbage collections and no IPython while importing, both back after;
a run's start leaves orbax for its first save."""

import gc
import subprocess
import sys
import textwrap

import pytest

from jaxdl import cli
from jaxdl.cli import startup

PROBE = """\
import gc
collecting = gc.isenabled()
try:
    import IPython  # noqa: F401
    ipython_imported = True
except ImportError:
    ipython_imported = False
"""


def test_import_library_pauses_collections_and_ipython_only_while_importing(tmp_path, monkeypatch):
    (tmp_path / "startup_probe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "IPython", raising=False)  # as in a fresh `jaxdl` process
    monkeypatch.delitem(sys.modules, "startup_probe", raising=False)
    try:
        probe = startup.import_library("startup_probe")
    finally:
        gc.unfreeze()  # leave this test process's collector as it was
    assert not probe.collecting and not probe.ipython_imported
    assert gc.isenabled() and "IPython" not in sys.modules  # nothing blocked after the import
    assert startup.import_library("startup_probe") is probe


def test_a_runs_start_imports_neither_orbax_nor_ipython():
    program = textwrap.dedent("""
        import sys
        from jaxdl.cli import startup
        startup.import_library("jaxdl.train.loop")
        print(sorted(m for m in ("orbax.checkpoint", "IPython", "jax", "flax.nnx") if m in sys.modules))
    """)
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[0] == "['flax.nnx', 'jax']"


class _Imported(Exception):
    pass


@pytest.mark.parametrize(("argv", "library"), [
    (["train", "mnist_mlp"], "jaxdl.train.loop"),
    (["sweep", "mnist_mlp"], "jaxdl.sweep.named"),
    (["compare", "mnist_mlp"], "jaxdl.studies.compare"),
    (["studies"], "jaxdl.studies.fidelity"),
    (["evaluate", "--workdir", "w"], "jaxdl.runs.evaluate"),
    (["generate", "--workdir", "w"], "jaxdl.runs.generate"),
    (["export", "--workdir", "w"], "jaxdl.runs.export"),
    (["neighbours", "--workdir", "w", "good"], "jaxdl.runs.word_vectors"),
])
def test_commands_that_run_jax_import_the_library_through_the_quick_path(monkeypatch, argv, library):
    imported = []

    def record(name):
        imported.append(name)
        raise _Imported  # stop before any work

    monkeypatch.setattr(startup, "import_library", record)
    with pytest.raises(_Imported):
        cli.run(argv)
    assert imported == [library]
