"""scripts/: every launcher parses as bash (`bash -n`), fails fast, and calls only what it may."""

import pathlib
import re
import shutil
import subprocess

import pytest

SCRIPTS = sorted(p for p in (pathlib.Path(__file__).parent.parent / "scripts").iterdir()
                 if p.suffix in (".sh", ".sbatch"))


def test_the_three_launchers_are_there():
    assert {"gpu_check.sh", "slurm_train.sbatch", "tpu_pod.sh"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parses_and_fails_fast(script):
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert re.search(r"^set -euo pipefail$", text, re.M)
    if shutil.which("shellcheck"):  # optional: bash -n is the check `make test` relies on
        subprocess.run(["shellcheck", "--shell=bash", str(script)], check=True)


def test_a_script_with_a_syntax_error_fails_bash_n(tmp_path):
    # The check above can fail: bash -n rejects an unclosed `if`.
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nset -euo pipefail\nif true; then echo\n")
    assert subprocess.run(["bash", "-n", str(bad)], capture_output=True).returncode != 0
