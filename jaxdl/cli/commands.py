"""The table of `jaxdl` commands: each entry's arguments and the one library call it makes.

Imports of the library happen inside the calls, so `jaxdl --help` and the parser start without JAX.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

from jaxdl.cli import startup


class Command(NamedTuple):
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    call: Callable[[argparse.Namespace], object]  # its return value, if any, is printed


def _sets(p: argparse.ArgumentParser, help: str = "override a config value, e.g. --set optimizer.learning_rate=0.1",
          metavar: str = "KEY=VALUE") -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar=metavar, help=help)


def _config(args: argparse.Namespace):
    from jaxdl import experiments

    return experiments.configure(args.experiment, args.overrides)


def _experiment_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("experiment", help="a name from `jaxdl list`")
    _sets(p)


def _show_args(p: argparse.ArgumentParser) -> None:
    _experiment_args(p)
    p.add_argument("--summary", action="store_true",
                   help="parameters per module and FLOPs per train step instead of the config (imports JAX)")


def _show(args: argparse.Namespace):
    if not args.summary:
        return _config(args)
    from jaxdl.train import summary

    return summary.describe(_config(args))


def _train_args(p: argparse.ArgumentParser) -> None:
    _experiment_args(p)
    p.add_argument("--workdir", help="where config.json and metrics.jsonl go (default runs/EXPERIMENT/TIMESTAMP)")
    p.add_argument("--overwrite", action="store_true", help="replace a run already in --workdir")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --workdir from its latest checkpoint (or start it)")


def _train(args: argparse.Namespace) -> None:
    loop = startup.import_library("jaxdl.train.loop")
    loop.train(_config(args), args.workdir, overwrite=args.overwrite, resume=args.resume)


def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("experiment", help="a sweep or an experiment from `jaxdl list`")
    _sets(p, "a value, comma-separated values to sweep, or a distribution to search (uniform(lo,hi), "
          "loguniform(lo,hi), intuniform(lo,hi), choice(a,b,...); sweepable keys only)", "KEY=V1,V2,...")
    p.add_argument("--seeds", type=int, default=0, help="seeds 0..N-1 per combination")
    p.add_argument("--samples", type=int, default=0, help="points drawn from the --set distributions (a search)")
    p.add_argument("--search", default="random", choices=("random", "sobol", "halton"),
                   help="how the points are drawn: independent uniforms, or a scrambled Sobol or Halton sequence")
    p.add_argument("--search-seed", type=int, default=None, help="the seed of the points (default: the config seed)")
    p.add_argument("--workdir", help="default runs/sweeps/NAME/TIMESTAMP")
    p.add_argument("--chunk-size", type=int, default=0, help="members per compiled call (0 = fit memory)")
    p.add_argument("--data-order", default="per_seed", choices=("per_seed", "shared"),
                   help="each member shuffles by its own seed, or all share the config seed's order")
    p.add_argument("--devices", type=int, default=0, help="split members over this many devices (0 = all)")
    p.add_argument("--resume", action="store_true", help="continue the sweep in --workdir where it stopped")
    p.add_argument("--halving-rungs", metavar="E1,E2,...",
                   help="successive halving: after these epochs keep the best 1/eta members by validation")
    p.add_argument("--halving-eta", type=int, help="keep the best 1/eta at each rung (default 3)")
    p.add_argument("--halving-by", choices=("seed",), help="rank and keep within each seed's members")


def _sweep(args: argparse.Namespace) -> str:
    named = startup.import_library("jaxdl.sweep.named")
    from jaxdl.sweep import halving

    return named.report(args.experiment, args.overrides, seeds=args.seeds, workdir=args.workdir,
                        chunk_size=args.chunk_size, data_order=args.data_order, num_devices=args.devices,
                        samples=args.samples, search=args.search, search_seed=args.search_seed,
                        resume=args.resume,
                        halving=halving.from_flags(args.halving_rungs, args.halving_eta, args.halving_by))


def _compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("comparison", help="a comparison from `jaxdl list`, or an experiment with --variant")
    p.add_argument("--variant", action="append", default=[], metavar="LABEL:KEY=V,KEY=V",
                   help="with an experiment: a labelled override set, one run each (repeatable)")
    p.add_argument("--metric", default="accuracy", help="with --variant: the metric tabulated (e.g. rmse)")
    p.add_argument("--seeds", type=int, default=0, help="seeds per variant (0 = the comparison's)")
    _sets(p, "an override applied to every variant")
    p.add_argument("--workdir", help="default runs/compare/NAME/TIMESTAMP")
    p.add_argument("--resume", action="store_true", help="continue the comparison in --workdir where it stopped")


def _compare(args: argparse.Namespace) -> str:
    compare = startup.import_library("jaxdl.studies.compare")

    variants = {label: [s for s in sets.split(",") if s]
                for label, _, sets in (v.partition(":") for v in args.variant)}
    return compare.report(args.comparison, args.workdir, seeds=args.seeds, overrides=args.overrides,
                          variants=variants, metric=args.metric, resume=args.resume)


def _studies_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", nargs="?", help="a study to train (none: list the studies)")
    p.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 per side (default: the study's, 3)")
    p.add_argument("--rows", default=None, metavar="A,B", help="only these rows (default: all)")
    _sets(p, "an override of every run, after the rows' own (e.g. --set train.epochs=1)")
    p.add_argument("--workdir", help="default runs/studies/NAME/TIMESTAMP")
    p.add_argument("--resume", action="store_true", help="continue the study in --workdir where it stopped")


def _studies(args: argparse.Namespace) -> str:
    fidelity = startup.import_library("jaxdl.studies.fidelity")

    return fidelity.report(args.study, args.workdir, seeds=args.seeds, overrides=args.overrides,
                           rows=args.rows.split(",") if args.rows else None, resume=args.resume)


def _plot_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workdir", required=True)
    p.add_argument("--figure", default="curves",
                   help="a name from jaxdl.figures.FIGURES: curves (any run), weight_masks and latent3 (Nielsen's "
                   "nets), attention (transformer_seq2seq), vae_reconstructions, vae_samples, vae_manifold, "
                   "vae_latents, made_samples, node_embeddings (GCNs), word_pca (text models, with --words)")
    p.add_argument("--text", default=None, help="attention: the source string (default: a validation example)")
    p.add_argument("--layer", type=int, default=-1, help="attention: decoder layer (default: the last)")
    p.add_argument("--head", type=int, default=0, help="attention: head")
    p.add_argument("--words", nargs="+", default=None,
                   help="word_pca: the words to place (default: a list of sentiment words)")


def _plot(args: argparse.Namespace) -> str:
    from jaxdl import figures

    return "\n".join(figures.plot(args.figure, args.workdir, text=args.text, layer=args.layer, head=args.head,
                                  words=args.words))


def _generate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workdir", required=True, help="the run to sample from")
    p.add_argument("--prompt", default="\n", help="text the sample continues (default: a newline)")
    p.add_argument("--length", type=int, default=500, help="characters to generate")
    p.add_argument("--temperature", type=float, default=0.8, help="softmax temperature; 0 = greedy")
    p.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest (0 = all)")
    p.add_argument("--seed", type=int, default=0, help="the sampling key: same seed, same text")
    p.add_argument("--step", type=int, default=None,
                   help="checkpoint step (default: the run's best-validation state if kept, else the latest)")


def _generate(args: argparse.Namespace) -> str:
    generate = startup.import_library("jaxdl.runs.generate")

    return generate.generate(args.workdir, args.prompt, length=args.length, temperature=args.temperature,
                             top_k=args.top_k, seed=args.seed, step=args.step)


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workdir", required=True)
    p.add_argument("--best", action="store_true", help="the state kept by train.keep_best")
    p.add_argument("--split", dest="splits", action="append", default=[],
                   help="a split to evaluate (repeatable; default: the run's train.eval_splits)")
    _sets(p, "an evaluation setting, e.g. --set vae.iwae_samples=5000")


def _evaluate(args: argparse.Namespace) -> None:
    evaluate = startup.import_library("jaxdl.runs.evaluate")

    evaluate.evaluate(args.workdir, splits=args.splits, overrides=args.overrides, best=args.best)


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workdir", required=True, help="the trained run")
    p.add_argument("--best", action="store_true", help="the state kept by train.keep_best")
    p.add_argument("--platforms", default="cpu,cuda,tpu", help="comma-separated: cpu, cuda, rocm, tpu")
    p.add_argument("--out", help="the folder written (default WORKDIR/export, WORKDIR/export_best with --best)")


def _export(args: argparse.Namespace) -> str:
    export = startup.import_library("jaxdl.runs.export")

    return export.export(args.workdir, best=args.best, platforms=args.platforms.split(","), out=args.out)


def _neighbours_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workdir", required=True, help="a sentiment_* run (its best state if kept)")
    p.add_argument("word")
    p.add_argument("--k", type=int, default=10)


def _neighbours(args: argparse.Namespace) -> str:
    word_vectors = startup.import_library("jaxdl.runs.word_vectors")

    return "\n".join(f"{sim:7.4f}  {word}" for word, sim in word_vectors.neighbours(args.workdir, args.word, args.k))


def _prepare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset")
    p.add_argument("--data-dir", default=None)


def _prepare(args: argparse.Namespace) -> str:
    from jaxdl import data

    data.prepare(args.dataset, data_dir=args.data_dir)
    return f"{args.dataset}: ready in {args.data_dir or data.default_data_dir()}"


def _ensemble_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("workdirs", nargs="*", metavar="RUN", help="trained runs to average")
    p.add_argument("--train", metavar="EXPERIMENT", help="train the members first, one per seed")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--workdir", help="with --train: where the members go (default runs/ensembles/EXPERIMENT)")
    _sets(p, "with --train: an override of every member")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--splits", nargs="+", default=["validation", "test"])


def _ensemble(args: argparse.Namespace) -> str:
    ensemble = startup.import_library("jaxdl.studies.ensemble")

    return ensemble.report(args.workdirs, train=args.train, seeds=args.seeds, workdir=args.workdir,
                           overrides=args.overrides, overwrite=args.overwrite, splits=args.splits)


def _table_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", help="a sentiment corpus: rotten_tomatoes, pang_lee (or their _open vocabularies)")
    p.add_argument("experiments", nargs="+", metavar="NAME[:KEY=V,KEY=V]")
    p.add_argument("--split-seeds", type=int, nargs="+", default=None, help="default: all five")
    _sets(p, "applied to every experiment")
    p.add_argument("--baseline", action="store_true", help="add TF-IDF + logistic regression (scikit-learn)")
    p.add_argument("--ensemble", action="append", default=[], metavar="A+B[+...]",
                   help="add the mean-probability ensemble of these experiments (repeatable)")
    p.add_argument("--workdir", default=None, help="default runs/split_seeds/CORPUS")
    p.add_argument("--overwrite", action="store_true")


def _table(args: argparse.Namespace) -> str:
    split_seeds = startup.import_library("jaxdl.studies.split_seeds")

    return split_seeds.report(args.corpus, args.experiments, split_seeds=args.split_seeds, overrides=args.overrides,
                              baseline=args.baseline, ensembles=args.ensemble, workdir=args.workdir,
                              overwrite=args.overwrite)


def _baseline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=("tabular", "text"),
                   help="tabular: scikit-learn tree ensembles on diamonds; text: TF-IDF + logistic regression")
    p.add_argument("corpora", nargs="*", default=["rotten_tomatoes", "pang_lee"], help="text: the corpora")
    p.add_argument("--model", default="random_forest", help="tabular: random_forest or gradient_boosting")
    p.add_argument("--dataset", default="diamonds", help="tabular: the dataset")
    p.add_argument("--n-estimators", type=int, default=300, help="tabular: trees (or boosting iterations)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split-seeds", type=int, nargs="+", default=None, help="text: the split seeds (default: all five)")
    p.add_argument("--data-dir", default=None)


def _baseline(args: argparse.Namespace) -> str:
    if args.kind == "text":
        from jaxdl.studies import text_baselines

        return text_baselines.report(args.corpora, split_seeds=args.split_seeds, data_dir=args.data_dir)
    from jaxdl.studies import tabular_baselines

    return tabular_baselines.report(args.model, dataset=args.dataset, n_estimators=args.n_estimators,
                                    seed=args.seed, data_dir=args.data_dir)


def _list(args: argparse.Namespace) -> str:
    from jaxdl.experiments import catalogue

    return catalogue.listing()


COMMANDS: dict[str, Command] = {
    "list": Command("experiments, sweeps, comparisons and datasets (with availability)", lambda p: None, _list),
    "show": Command("print an experiment's config (after --set), or --summary of its model", _show_args, _show),
    "train": Command("train an experiment", _train_args, _train),
    "evaluate": Command("evaluate a trained run again (e.g. with more IWAE samples)", _evaluate_args, _evaluate),
    "sweep": Command("train seeds x hyperparameters as one vmapped program", _sweep_args, _sweep),
    "compare": Command("train the variants of a comparison; write a table", _compare_args, _compare),
    "studies": Command("the original code's recipe and jaxdl's default over seeds, beside the original's numbers",
                       _studies_args, _studies),
    "table": Command("train experiments on every split seed of a sentiment corpus; one table", _table_args,
                     _table),
    "ensemble": Command("the equal-weight ensemble of trained runs (optionally training them)", _ensemble_args,
                        _ensemble),
    "baseline": Command("the scikit-learn reference rows (tabular trees, text TF-IDF)", _baseline_args, _baseline),
    "plot": Command("figures of a run, written into its workdir", _plot_args, _plot),
    "generate": Command("sample text from a trained language model (char_lm runs)", _generate_args, _generate),
    "export": Command("a run's inference function as jax.export StableHLO (cpu, cuda, tpu) plus params",
                      _export_args, _export),
    "neighbours": Command("a text run's words nearest to WORD by cosine similarity", _neighbours_args, _neighbours),
    "prepare": Command("build an offline dataset, or download a public one", _prepare_args, _prepare),
}

