"""`jaxdl list`: every experiment, sweep, comparison, study and dataset by name, with datasets' availability."""

from __future__ import annotations

from jaxdl import data, experiments
from jaxdl.experiments.comparisons import COMPARISONS
from jaxdl.experiments.studies import STUDIES
from jaxdl.experiments.sweeps import SWEEPS
from jaxdl.registry import load_plugins


def listing() -> str:
    """One section per kind (installed plugins' entries too); a missing dataset says why and how to get it."""
    load_plugins()
    # One column wide enough for the longest name of any section.
    width = 2 + max(len(n) for n in (*experiments.EXPERIMENTS, *SWEEPS, *COMPARISONS, *STUDIES, *data.DATASETS))
    lines = ["experiments:"]
    for name in experiments.EXPERIMENTS:
        default = " (default)" if name == experiments.DEFAULT else ""
        lines.append(f"  {name:<{width}}{experiments.describe(name)}{default}")
    lines.append("sweeps (jaxdl sweep NAME; any experiment can be swept too):")
    lines += [f"  {name:<{width}}{spec.description}" for name, spec in SWEEPS.items()]
    lines.append("comparisons (jaxdl compare NAME):")
    lines += [f"  {name:<{width}}{comparison.description}" for name, comparison in COMPARISONS.items()]
    lines.append("studies (jaxdl studies NAME):")
    lines += [f"  {name:<{width}}{study.description}" for name, study in STUDIES.items()]
    lines.append(f"datasets (data dir {data.default_data_dir()}):")
    for name, spec in data.DATASETS.items():
        ok, reason = data.availability(name)
        lines.append(f"  {name:<{width}}{'available' if ok else 'missing'}: {spec.description}")
        if not ok:
            lines.append(f"  {'':<{width}}{reason}; to get it: {spec.how_to_get}")
    return "\n".join(lines)
