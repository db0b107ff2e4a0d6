"""`jaxdl list | show | train | evaluate | sweep | compare | plot | generate | neighbours | prepare`: the command line."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys


# jaxdl.figures_generative.FIGURES, named here so the parser needs no jax import.
GENERATIVE_FIGURES = ("vae_reconstructions", "vae_samples", "vae_manifold", "vae_latents", "made_samples")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jaxdl", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="experiments and datasets (with availability)")

    def with_config(sp):
        sp.add_argument("experiment", help="a name from `jaxdl list`")
        sp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set optimizer.learning_rate=0.1")

    with_config(sub.add_parser("show", help="print an experiment's config (after --set)"))
    train = sub.add_parser("train", help="train an experiment")
    with_config(train)
    train.add_argument("--workdir", help="where config.json and metrics.jsonl go "
                       "(default runs/EXPERIMENT/TIMESTAMP)")
    train.add_argument("--overwrite", action="store_true", help="replace a run already in --workdir")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --workdir from its latest checkpoint (or start it)")
    sweep = sub.add_parser("sweep", help="train seeds x hyperparameters as one vmapped program")
    sweep.add_argument("experiment", help="a sweep or an experiment from `jaxdl list`")
    sweep.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=V1,V2,...",
                       help="a value, or comma-separated values to sweep (sweepable keys only)")
    sweep.add_argument("--seeds", type=int, default=0, help="seeds 0..N-1 per combination")
    sweep.add_argument("--workdir", help="default runs/sweeps/NAME/TIMESTAMP")
    sweep.add_argument("--chunk-size", type=int, default=0, help="members per compiled call (0 = fit memory)")
    sweep.add_argument("--data-order", default="per_seed", choices=("per_seed", "shared"),
                       help="each member shuffles by its own seed, or all share the config seed's order")
    sweep.add_argument("--devices", type=int, default=0, help="split members over this many devices (0 = all)")
    compare = sub.add_parser("compare", help="train the variants of a comparison over seeds; write a table")
    compare.add_argument("comparison", help="a comparison from `jaxdl list`")
    compare.add_argument("--seeds", type=int, default=0, help="seeds per variant (0 = the comparison's)")
    compare.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                         help="an override applied to every variant")
    compare.add_argument("--workdir", help="default runs/compare/NAME/TIMESTAMP")
    plot = sub.add_parser("plot", help="figures of a run, written into its workdir")
    plot.add_argument("--workdir", required=True)
    plot.add_argument("--figure", default="curves",
                      choices=("curves", "weight_masks", "latent3", "attention", "node_embeddings", "word_pca",
                               *GENERATIVE_FIGURES),
                      help="curves: learning curves; weight_masks: a 784-10 net's weights per checkpoint "
                      "(nielsen_weight_masks); latent3: test digits in a 3-unit hidden layer (nielsen_latent3); "
                      "attention: a decoder head's attention over the source (transformer_seq2seq runs); "
                      "vae_reconstructions, vae_samples, vae_manifold, vae_latents (the last two for "
                      "model.latent_dim=2): vae_mnist runs; made_samples: made_mnist runs; "
                      "node_embeddings: a GCN's 2-D node embeddings by class (karate_gcn, drosophila_gcn); "
                      "word_pca: --words' learned vectors in 2-D (sentiment_embedding_bag, sentiment_lstm)")
    plot.add_argument("--text", default=None, help="attention: the source string (default: a validation example)")
    plot.add_argument("--layer", type=int, default=-1, help="attention: decoder layer (default: the last)")
    plot.add_argument("--head", type=int, default=0, help="attention: head")
    gen = sub.add_parser("generate", help="sample text from a trained language model (char_lm runs)")
    gen.add_argument("--workdir", required=True, help="the run to sample from")
    gen.add_argument("--prompt", default="\n", help="text the sample continues (default: a newline)")
    gen.add_argument("--length", type=int, default=500, help="characters to generate")
    gen.add_argument("--temperature", type=float, default=0.8, help="softmax temperature; 0 = greedy")
    gen.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest (0 = all)")
    gen.add_argument("--seed", type=int, default=0, help="the sampling key: same seed, same text")
    gen.add_argument("--step", type=int, default=None,
                     help="checkpoint step (default: the run's best-validation state if kept, else the latest)")
    evaluate = sub.add_parser("evaluate", help="evaluate a trained run again (e.g. with more IWAE samples)")
    evaluate.add_argument("--workdir", required=True)
    evaluate.add_argument("--best", action="store_true", help="the state kept by train.keep_best")
    evaluate.add_argument("--split", dest="splits", action="append", default=[],
                          help="a split to evaluate (repeatable; default: the run's train.eval_splits)")
    evaluate.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                          help="an evaluation setting, e.g. --set vae.iwae_samples=5000")
    plot.add_argument("--words", nargs="+", default=None,
                      help="word_pca: the words to place (default: a list of sentiment words)")
    nb = sub.add_parser("neighbours", help="a text run's words nearest to WORD by cosine similarity")
    nb.add_argument("--workdir", required=True, help="a sentiment_* run (its best state if kept)")
    nb.add_argument("word")
    nb.add_argument("--k", type=int, default=10)
    prep = sub.add_parser("prepare", help="build an offline dataset, or download a public one")
    prep.add_argument("dataset")
    prep.add_argument("--data-dir", default=None)
    return p


def _config(args):
    from jaxdl import config as config_lib, experiments

    return config_lib.apply_overrides(experiments.get_config(args.experiment), args.overrides)


def _list() -> None:
    from jaxdl import data, experiments
    from jaxdl.experiments.comparisons import COMPARISONS
    from jaxdl.experiments.sweeps import SWEEPS

    # One column wide enough for the longest name of any section.
    width = 2 + max(len(n) for n in (*experiments.EXPERIMENTS, *SWEEPS, *COMPARISONS, *data.DATASETS))
    print("experiments:")
    for name in experiments.EXPERIMENTS:
        default = " (default)" if name == experiments.DEFAULT else ""
        print(f"  {name:<{width}}{experiments.describe(name)}{default}")
    print("sweeps (jaxdl sweep NAME; any experiment can be swept too):")
    for name, spec in SWEEPS.items():
        print(f"  {name:<{width}}{spec.description}")
    print("comparisons (jaxdl compare NAME):")
    for name, comparison in COMPARISONS.items():
        print(f"  {name:<{width}}{comparison.description}")
    print(f"datasets (data dir {data.default_data_dir()}):")
    for name, spec in data.DATASETS.items():
        ok, reason = data.availability(name)
        print(f"  {name:<{width}}{'available' if ok else 'missing'}: {spec.description}")
        if not ok:
            print(f"  {'':<{width}}{reason}; to get it: {spec.how_to_get}")


def _sweep(args) -> None:
    from jaxdl import config as config_lib, experiments, sweep
    from jaxdl.experiments.sweeps import SWEEPS

    spec = SWEEPS.get(args.experiment)
    if spec is not None:
        config = config_lib.apply_overrides(experiments.get_config(spec.experiment), spec.overrides)
        config.experiment = args.experiment
    else:
        try:
            config = experiments.get_config(args.experiment)
        except ValueError as e:
            raise ValueError(f"{e}; sweeps: {', '.join(SWEEPS)}") from None
    config, grid = sweep.parse_sets(config, args.overrides)
    grid = {**(spec.grid if spec else {}), **grid}
    seeds = args.seeds or (spec.seeds if spec else 1)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = args.workdir or os.path.join("runs", "sweeps", args.experiment, stamp)
    print(f"{args.experiment}: {seeds} seeds x {grid or 'no grid'} -> {workdir}", flush=True)
    result = sweep.run(config, seeds=seeds, grid=grid, workdir=workdir, chunk_size=args.chunk_size,
                       data_order=args.data_order, num_devices=args.devices)
    diverged = sum(r["diverged"] for r in result.rows)
    print(f"{args.experiment}: {len(result.rows)} members ({diverged} diverged), "
          f"{result.member_steps / result.seconds:,.0f} model-steps/s, {result.seconds:.1f}s; "
          f"results.csv, results.jsonl, curves.jsonl and plots in {workdir}", flush=True)


def _generate(args) -> None:
    from jaxdl.tasks import char_lm
    from jaxdl.train import checkpoint, saved

    best = args.step is None and checkpoint.has_checkpoint(os.path.join(args.workdir, "best"))
    config, _, state = saved.restore(args.workdir, args.step, best=best)
    if config.task != "char_lm":
        raise ValueError(f"{args.workdir} trained task {config.task!r}; generate needs a char_lm run")
    sample = char_lm.generate_text(config, state.params, args.prompt, length=args.length,
                                   temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    print(args.prompt + sample)


def run(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "list":
        _list()
    elif args.command == "show":
        print(_config(args))
    elif args.command == "plot":
        from jaxdl import figures

        if not os.path.exists(os.path.join(args.workdir, "metrics.jsonl")):
            raise ValueError(f"{args.workdir} holds no run (no metrics.jsonl)")
        if args.figure == "curves":
            print(figures.learning_curves(args.workdir))
        elif args.figure in GENERATIVE_FIGURES:
            from jaxdl import figures_generative

            print(figures_generative.FIGURES[args.figure](args.workdir))
        elif args.figure == "weight_masks":
            print("\n".join(figures.weight_masks(args.workdir)))
        elif args.figure == "attention":
            print(figures.attention(args.workdir, args.text, layer=args.layer, head=args.head))
        elif args.figure == "node_embeddings":
            from jaxdl import embedding_figures

            print(embedding_figures.node_embeddings(args.workdir))
        elif args.figure == "word_pca":
            from jaxdl import word_vectors

            print(word_vectors.plot_words(args.workdir, args.words))
        else:
            paths = figures.latent3(args.workdir)
            print("\n".join(paths))
            with open(paths[-1]) as f:
                ckpts = json.load(f)["checkpoints"]
            when = [f"epoch {c['epoch']}" if c["epoch"] is not None else f"step {c['step']}" for c in ckpts]
            print(f"d(4, 9) / mean distance between digit centroids, {when[0]} .. {when[-1]}: "
                  + " ".join(f"{c['ratio_4_9']:.2f}" for c in ckpts))
    elif args.command == "compare":
        from jaxdl import compare

        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        workdir = args.workdir or os.path.join("runs", "compare", args.comparison, stamp)
        table = compare.run(args.comparison, workdir, seeds=args.seeds, overrides=args.overrides)
        print(compare.markdown(table) + f"table.md and table.json in {workdir}")
    elif args.command == "evaluate":
        from jaxdl.train import evaluate

        evaluate.evaluate(args.workdir, splits=args.splits, overrides=args.overrides, best=args.best)
    elif args.command == "sweep":
        _sweep(args)
    elif args.command == "generate":
        _generate(args)
    elif args.command == "neighbours":
        from jaxdl import word_vectors

        for word, sim in word_vectors.neighbours(args.workdir, args.word, args.k):
            print(f"{sim:7.4f}  {word}")
    elif args.command == "prepare":
        from jaxdl import data

        data.prepare(args.dataset, data_dir=args.data_dir)
        print(f"{args.dataset}: ready in {args.data_dir or data.default_data_dir()}")
    elif args.command == "train":
        config = _config(args)
        if args.resume and not args.workdir:
            raise ValueError("--resume needs the --workdir of the run to continue")
        from jaxdl import parallel
        from jaxdl.train import loop

        parallel.use_cpu_devices(config.train.cpu_devices)  # before anything starts the backend
        parallel.initialize_distributed()
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        workdir = args.workdir or os.path.join("runs", config.experiment, stamp)
        if parallel.is_lead():
            print(f"{config.experiment}: writing to {workdir}", flush=True)
        loop.train(config, workdir, overwrite=args.overwrite, resume=args.resume)


def _enable_compilation_cache() -> None:
    """Programs compiled once are reused by later commands (compiles take seconds on CPU)."""
    import jax

    path = os.environ.get("JAXDL_COMPILATION_CACHE", os.path.expanduser("~/.cache/jaxdl/jax"))
    if path and not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir", path)


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done (or preempted by SIGTERM with a checkpoint saved), 2 bad input,
    3 training stopped on a NaN/Inf (the last good checkpoint is kept)."""
    from jaxdl.data import DatasetNotAvailableError
    from jaxdl.train.checkpoint import CheckpointError
    from jaxdl.train.loop import NonFiniteError
    from jaxdl.train.workdir import RunExistsError

    _enable_compilation_cache()
    try:
        run(argv)
    except (ValueError, DatasetNotAvailableError, RunExistsError, CheckpointError) as e:
        print(f"jaxdl: error: {e}", file=sys.stderr)
        return 2
    except NonFiniteError as e:
        print(f"jaxdl: error: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
