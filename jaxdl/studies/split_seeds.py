"""Train experiments on every split seed of a sentiment corpus; one table of mean +- sd test accuracy.

    jaxdl table rotten_tomatoes sentiment_nb_bow sentiment_bow \\
        "sentiment_lstm:model.read_len=400" --workdir runs/split_seeds/rotten_tomatoes

Each experiment (optionally `NAME:KEY=V,KEY=V` for its own overrides) is a `jaxdl.studies.variants`
run per split seed (`data.name` = that seed's dataset) in WORKDIR/NAME/splitS (with overrides:
WORKDIR/NAME+KEY=V+KEY=V/splitS); the test accuracy reported is the best-validation state's
(train.keep_best), so no choice ever sees test.
`--baseline` adds `jaxdl.studies.text_baselines`' TF-IDF + logistic regression on the same splits.
`--ensemble A+B` adds, per split seed, the `jaxdl.runs.ensemble` (mean probability) of the listed
experiments' runs, each of which must be among the experiments trained.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from jaxdl.data import sentiment


def parse_experiment(item: str) -> tuple[str, list[str]]:
    """"NAME:KEY=V,KEY=V" -> (NAME, ["KEY=V", "KEY=V"])."""
    name, _, sets = item.partition(":")
    return name, [s for s in sets.split(",") if s]


def folder_name(item: str) -> str:
    """"NAME:KEY=V,KEY=V" -> "NAME+KEY=V+KEY=V": variants of one experiment never share a folder."""
    return item.replace(":", "+").replace(",", "+").replace("/", "_")


def test_accuracies(experiment: str, corpus: str, split_seeds, workdir: str, overrides=(),
                    overwrite: bool = False, folder: str | None = None) -> list[float]:
    """Best-validation-state test accuracy of `experiment` on each split seed of `corpus`,
    trained in WORKDIR/FOLDER/splitS (FOLDER defaults to the experiment's name)."""
    from jaxdl.studies import variants

    named = {f"split{s}": [f"data.name={sentiment.spec_name(corpus, s)}"] for s in split_seeds}
    rows = variants.run(experiment, named, os.path.join(workdir, folder or experiment), list(overrides),
                            overwrite)
    return [float(r.get("best", r["final"])["test"]["accuracy"]) for r in rows]


def ensemble_accuracies(members: list[str], split_seeds, workdir: str) -> list[float]:
    """Test accuracy of the mean-probability ensemble of the runs of `members` on each split seed."""
    from jaxdl.runs import ensemble

    return [ensemble.evaluate([os.path.join(workdir, folder_name(m), f"split{s}") for m in members],
                              ("test",))["test"]["accuracy"] for s in split_seeds]


def table(accuracies: dict[str, list[float]], split_seeds) -> str:
    """Markdown: one row per label with its mean +- (population) sd and every seed's accuracy, in %."""
    seeds = list(split_seeds)
    lines = [f"| classifier | mean +- sd | {' | '.join(f'seed {s}' for s in seeds)} |",
             "|---" * (len(seeds) + 2) + "|"]
    for label, acc in accuracies.items():
        if len(acc) != len(seeds):
            raise ValueError(f"{label}: {len(acc)} accuracies for {len(seeds)} split seeds {seeds}")
        a = 100 * np.asarray(acc)
        lines.append(f"| {label} | {a.mean():.1f} +- {a.std():.1f} | {' | '.join(f'{x:.1f}' for x in a)} |")
    return "\n".join(lines)


def report(corpus: str, experiment_items: Sequence[str], *, split_seeds: Sequence[int] | None = None,
           overrides: Sequence[str] = (), baseline: bool = False, ensembles: Sequence[str] = (),
           workdir: str | None = None, overwrite: bool = False) -> str:
    """What `jaxdl table` prints: each experiment (and ensemble, baseline) over the split seeds of `corpus`.

    Rows are printed as they finish; the whole table is returned.
    """
    split_seeds = list(split_seeds or sentiment.SPLIT_SEEDS)
    corpora = [c + suffix for c in sentiment.CORPORA for suffix in sentiment.VOCABULARIES]
    if corpus not in corpora:
        raise ValueError(f"unknown corpus {corpus!r}; valid: {', '.join(corpora)}")
    workdir = workdir or os.path.join("runs", "split_seeds", corpus)
    groups = [e.split("+") for e in ensembles]
    for members in groups:
        unknown = [m for m in members if m not in experiment_items]
        if len(members) < 2 or unknown:
            raise ValueError(f"--ensemble {'+'.join(members)}: needs at least 2 members, each one of the "
                             f"experiments trained ({', '.join(experiment_items)}); not among them: {unknown}")
    accuracies = {}
    for item in experiment_items:
        name, own = parse_experiment(item)
        accuracies[item] = test_accuracies(name, corpus, split_seeds, workdir, [*overrides, *own], overwrite,
                                           folder_name(item))
        print(table({item: accuracies[item]}, split_seeds).splitlines()[-1], flush=True)
    for members in groups:
        label = f"ensemble: {' + '.join(members)} (mean probability)"
        accuracies[label] = ensemble_accuracies(members, split_seeds, workdir)
        print(table({label: accuracies[label]}, split_seeds).splitlines()[-1], flush=True)
    if baseline:
        from jaxdl.studies import text_baselines

        accuracies["TF-IDF + logistic regression"] = [
            text_baselines.tfidf_logreg(sentiment.spec_name(corpus, s))["test_accuracy"] for s in split_seeds]
    return table(accuracies, split_seeds)
