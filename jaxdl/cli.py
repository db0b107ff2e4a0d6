"""`jaxdl list | show | train | prepare`: the command line over jaxdl.experiments."""

from __future__ import annotations

import argparse
import datetime
import os
import sys


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
    prep = sub.add_parser("prepare", help="build an offline dataset, or download a public one")
    prep.add_argument("dataset")
    prep.add_argument("--data-dir", default=None)
    return p


def _config(args):
    from jaxdl import config as config_lib, experiments

    return config_lib.apply_overrides(experiments.get_config(args.experiment), args.overrides)


def _list() -> None:
    from jaxdl import data, experiments

    print("experiments:")
    for name in experiments.EXPERIMENTS:
        default = " (default)" if name == experiments.DEFAULT else ""
        print(f"  {name:<26}{experiments.describe(name)}{default}")
    print(f"datasets (data dir {data.default_data_dir()}):")
    for name, spec in data.DATASETS.items():
        ok, reason = data.availability(name)
        print(f"  {name:<26}{'available' if ok else 'missing'}: {spec.description}")
        if not ok:
            print(f"  {'':<26}{reason}; to get it: {spec.how_to_get}")


def run(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "list":
        _list()
    elif args.command == "show":
        print(_config(args))
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

        parallel.initialize_distributed()
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        workdir = args.workdir or os.path.join("runs", config.experiment, stamp)
        if parallel.is_lead():
            print(f"{config.experiment}: writing to {workdir}", flush=True)
        loop.train(config, workdir, overwrite=args.overwrite, resume=args.resume)


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done (or preempted by SIGTERM with a checkpoint saved), 2 bad input,
    3 training stopped on a NaN/Inf (the last good checkpoint is kept)."""
    from jaxdl.data import DatasetNotAvailableError
    from jaxdl.train.checkpoint import CheckpointError
    from jaxdl.train.loop import NonFiniteError
    from jaxdl.train.workdir import RunExistsError

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
