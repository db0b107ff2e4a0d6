"""Named studies: original code against jaxdl on the same data, one table row per recipe (`jaxdl studies NAME`).

Each row trains, over seeds, the original code's recipe expressed with jaxdl's options and
jaxdl's default recipe at the same budget, and sets both beside the original code's own test
metric. The original code is not a dependency: its numbers (run on jaxdl's arrays, splits and
fixed binarisation, issue 23) are fixed here, or a row names a baseline runner in
`jaxdl.studies.fidelity` that reproduces them when its library is installed. Sides read their
experiment's registered defaults when they run, so a changed default shows up in the next table.
(Not to be confused with `jaxdl.experiments.study`: experiments in the user's own files.)
"""

from __future__ import annotations

import dataclasses

from jaxdl.experiments.comparisons import GUPPY_VAE, KIM_MADE
from jaxdl.registry import Registry

SELECTIONS = ("best", "final")


@dataclasses.dataclass(frozen=True)
class Side:
    """One column's runs: `experiment` + the row's overrides + these, one run per seed."""
    experiment: str
    overrides: tuple[str, ...] = ()
    # "best": the test metric of the state chosen on validation (train.keep_best is turned on);
    # "final": the last state's, where the original reports its final numbers.
    select: str = "best"

    def __post_init__(self):
        if self.select not in SELECTIONS:
            raise ValueError(f"side select={self.select!r}; valid: {', '.join(SELECTIONS)}")


@dataclasses.dataclass(frozen=True)
class Original:
    """The original code's test metric: per-seed `values`, or only `mean` and `sd` where that is all it reported."""
    text: str  # which code, and how it ran
    values: tuple[float, ...] = ()
    mean: float | None = None
    sd: float | None = None
    baseline: str = ""  # a runner in jaxdl.studies.fidelity.BASELINES that recomputes it, if its library is there
    final: bool = False  # it reports its last state, not one chosen on validation

    def __post_init__(self):
        if not self.values and self.mean is None:
            raise ValueError(f"original {self.text!r} needs its values or its mean")


@dataclasses.dataclass(frozen=True)
class Row:
    recipe: str  # the shared recipe, as the table's first column says it
    metric: str  # the test metric tabulated, a key of the runs' evaluations
    original: Original
    original_choices: Side
    default: Side
    overrides: tuple[str, ...] = ()  # both sides, before each side's own: the recipe's shared choices and budget
    higher_is_better: bool = False
    percent: bool = False  # shown x100 with a % sign
    digits: int = 2


@dataclasses.dataclass(frozen=True)
class Study:
    description: str
    rows: dict[str, Row]
    seeds: int = 3


STUDIES: Registry[Study] = Registry("study", "studies")
register_study = STUDIES.register

# christinakim MADE.py's architecture and order on both sides, at its 100 epochs; the default side keeps
# made_mnist's registered init and EMA, whatever they are when the study runs. GUPPY_VAE is all of vae.py's
# choices; the original sides turn off the EMA the defaults add.
# scikit-learn's MLPClassifier((100,)) runs Adam 1e-3 on batches of 200 for at most 200 epochs (it stops
# when the training loss stalls, after 100-111 here). "Same budget" is the same passes over the data:
# each epoch costs the same FLOPs whatever the batch size, so the default keeps its own batch of 128
# (56% more steps than batches of 200) and runs the same 200 epochs.
_MLP_BUDGET = ("train.epochs=200",)

register_study("original_code", Study(
    "issue 23: the original code's recipe in jaxdl, and jaxdl's default at the same budget, on the same data",
    rows={
        "made": Row(
            "MADE, natural order, 1 mask, 784-784-784-784, Adam 1e-3, batch 100, 100 epochs, test NLL (nats)",
            "nll_ensemble",
            Original("christinakim `MADE.py` (PyTorch default init)", values=(111.05,)),
            original_choices=Side("made_mnist", ("model.init=torch_default", "train.ema_decay=0")),
            default=Side("made_mnist"),
            overrides=(*KIM_MADE, "train.epochs=100")),
        "vae": Row(
            "Bernoulli VAE, latent 20, hidden 500, 100 epochs, test -ELBO (nats)",
            "loss",
            Original("Guppy16 `vae.py` (SiLU, batch 32, AdamW wd 1e-2 on biases too, softplus variance, "
                     "PyTorch init), seeds 0 / 1", values=(107.72, 107.28)),
            original_choices=Side("vae_mnist", GUPPY_VAE),
            default=Side("vae_mnist"),
            overrides=("train.epochs=100",)),
        "playdl": Row(
            "parrt/playdl \"limit output to 0..5\" cell (4 factors, 5 sigmoid(U.M), no biases, full batch, "
            "lr 200, 1%/step shrinkage, 500 iterations), test RMSE",
            "rmse",
            Original("playdl notebook (validation 0.988)", values=(0.983,), final=True),
            original_choices=Side("movielens_playdl", select="final"),
            default=Side("movielens_mf"),
            digits=4),
        "mlp": Row(
            "784-100-10 MLP on mnist5k's 3,500 train digits, 200 epochs' budget, test accuracy",
            "accuracy",
            Original("scikit-learn `MLPClassifier((100,))` defaults",
                     values=(0.926, 0.939, 0.937, 0.931, 0.937, 0.935, 0.929, 0.942, 0.935, 0.934),
                     baseline="sklearn_mlp", final=True),
            original_choices=Side("mnist_mlp", ("data.batch_size=200",), select="final"),
            default=Side("mnist_mlp"),
            overrides=_MLP_BUDGET,
            higher_is_better=True, percent=True),
    },
))
