"""Named comparisons: variants of one experiment, each trained over seeds, tabulated side by side."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Comparison:
    experiment: str
    description: str
    variants: dict[str, tuple[str, ...]]  # label -> --set overrides of the experiment
    seeds: int = 3


# Nielsen ch.3's penalties are (lambda / 2n) sum w^2 and (lambda / n) sum |w|, n the training-set
# size; the optimiser takes the coefficient lambda / n. The book's runs use lambda / n = 1e-4 (lambda
# 0.1 on 1,000 images, 5.0 on 50,000): that strength on mnist5k's 3,500 images is lambda = 0.35.
# `nielsen_ch3` keeps lambda = 5.0 itself on 3,500 images, 14x stronger: the last L2 row.
COMPARISONS = {
    "nielsen_regularisation": Comparison(
        "nielsen_regularisation",
        "Nielsen ch.3 784-100-10 sigmoid cross-entropy: none vs L1 vs L2 vs dropout, 3 seeds, 30 epochs",
        variants={
            "none": (),
            "L1 (lambda/n=1e-4)": ("optimizer.l1=1e-4",),
            "L2 (lambda/n=1e-4)": ("optimizer.l2=1e-4",),
            "L2 (lambda=5, n=3500)": (f"optimizer.l2={5.0 / 3500}",),
            "dropout 0.5": ("model.dropout=0.5",),
        },
    ),
}
