"""Named comparisons: variants of one experiment, each trained over seeds, tabulated side by side."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Comparison:
    experiment: str
    description: str
    variants: dict[str, tuple[str, ...]]  # label -> --set overrides of the experiment
    seeds: int = 3


# Nielsen ch.3's penalties are (lambda / 2n) sum w^2 and (lambda / n) sum |w|, n = 3,500 training
# images of mnist5k; the optimiser takes the coefficient lambda / n.
COMPARISONS = {
    "nielsen_regularisation": Comparison(
        "nielsen_regularisation",
        "Nielsen ch.3 784-100-10 sigmoid cross-entropy: none vs L1 vs L2 vs dropout, 3 seeds, 30 epochs",
        variants={
            "none": (),
            "L1 (lambda=1)": (f"optimizer.l1={1.0 / 3500}",),
            "L2 (lambda=5)": (f"optimizer.l2={5.0 / 3500}",),
            "dropout 0.5": ("model.dropout=0.5",),
        },
    ),
}
