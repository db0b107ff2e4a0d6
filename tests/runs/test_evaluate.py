"""Evaluating a finished run again with other evaluation settings; the model cannot change."""

import json

import numpy as np
import pytest

from jaxdl import cli


@pytest.mark.slow
def test_made_reevaluation_with_fewer_masks(made_run, capsys):
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
