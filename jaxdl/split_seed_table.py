"""Train experiments on every split seed of a sentiment corpus; one table of mean +- sd test accuracy.

    python -m jaxdl.split_seed_table rotten_tomatoes sentiment_nb_bow sentiment_bow \\
        "sentiment_lstm:model.read_len=400" --workdir runs/split_seeds/rotten_tomatoes

Each experiment (optionally `NAME:KEY=V,KEY=V` for its own overrides) is a `jaxdl.compare_runs`
run per split seed (`data.name` = that seed's dataset) in WORKDIR/NAME/splitS (with overrides:
WORKDIR/NAME+KEY=V+KEY=V/splitS); the test accuracy reported is the best-validation state's
(train.keep_best), so no choice ever sees test.
`--baseline` adds `jaxdl.text_baselines`' TF-IDF + logistic regression on the same splits.
`--ensemble A+B` adds, per split seed, the `jaxdl.ensemble` (mean probability) of the listed
experiments' runs, each of which must be among the experiments trained.
"""

from __future__ import annotations

import argparse
import os

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
    from jaxdl import compare_runs

    variants = {f"split{s}": [f"data.name={sentiment.spec_name(corpus, s)}"] for s in split_seeds}
    rows = compare_runs.run(experiment, variants, os.path.join(workdir, folder or experiment), list(overrides),
                            overwrite)
    return [float(r.get("best", r["final"])["test"]["accuracy"]) for r in rows]


def ensemble_accuracies(members: list[str], split_seeds, workdir: str) -> list[float]:
    """Test accuracy of the mean-probability ensemble of the runs of `members` on each split seed."""
    from jaxdl import ensemble

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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m jaxdl.split_seed_table", description=__doc__.splitlines()[0])
    p.add_argument("corpus", choices=[c + suffix for c in sentiment.CORPORA for suffix in sentiment.VOCABULARIES])
    p.add_argument("experiments", nargs="+", metavar="NAME[:KEY=V,KEY=V]")
    p.add_argument("--split-seeds", type=int, nargs="+", default=list(sentiment.SPLIT_SEEDS))
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="applied to every experiment")
    p.add_argument("--baseline", action="store_true", help="add TF-IDF + logistic regression (scikit-learn)")
    p.add_argument("--ensemble", action="append", default=[], metavar="A+B[+...]",
                   help="add the mean-probability ensemble of these experiments (repeatable)")
    p.add_argument("--workdir", default=None, help="default runs/split_seeds/CORPUS")
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args(argv)
    workdir = args.workdir or os.path.join("runs", "split_seeds", args.corpus)
    ensembles = [e.split("+") for e in args.ensemble]
    for members in ensembles:
        unknown = [m for m in members if m not in args.experiments]
        if len(members) < 2 or unknown:
            raise SystemExit(f"--ensemble {'+'.join(members)}: needs at least 2 members, each one of the "
                             f"experiments trained ({', '.join(args.experiments)}); not among them: {unknown}")
    accuracies = {}
    for item in args.experiments:
        name, own = parse_experiment(item)
        accuracies[item] = test_accuracies(name, args.corpus, args.split_seeds, workdir,
                                           [*args.overrides, *own], args.overwrite, folder_name(item))
        print(table({item: accuracies[item]}, args.split_seeds).splitlines()[-1], flush=True)
    for members in ensembles:
        label = f"ensemble: {' + '.join(members)} (mean probability)"
        accuracies[label] = ensemble_accuracies(members, args.split_seeds, workdir)
        print(table({label: accuracies[label]}, args.split_seeds).splitlines()[-1], flush=True)
    if args.baseline:
        from jaxdl import text_baselines

        accuracies["TF-IDF + logistic regression"] = [
            text_baselines.tfidf_logreg(sentiment.spec_name(args.corpus, s))["test_accuracy"]
            for s in args.split_seeds]
    print(table(accuracies, args.split_seeds))


if __name__ == "__main__":
    main()
