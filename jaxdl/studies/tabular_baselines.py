"""scikit-learn tree ensembles on a jaxdl tabular dataset: the reference the embedding MLP must beat.

    jaxdl baseline tabular --model random_forest      # 300 trees
    jaxdl baseline tabular --model gradient_boosting

The forest sees the same rows as the network (train and validation: trees need
no validation slice here, and more data only makes the reference stronger)
with the categorical columns as their ordered level codes, and is scored on
the same test split. Needs the optional extra: pip install 'jaxdl[baselines]'.
"""

from __future__ import annotations

import time

import numpy as np

from jaxdl import data

MODELS = ("random_forest", "gradient_boosting")


def _features(arrays: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([arrays["categorical"].astype(np.float32), arrays["numeric"]], axis=1)


def fit_and_score(model: str = "random_forest", *, dataset: str = "diamonds", n_estimators: int = 300,
                  seed: int = 0, n_jobs: int = -1, data_dir: str | None = None) -> dict[str, float]:
    """Fits `model` on train+validation; returns test RMSE and MAE of the target and the fit time."""
    if model not in MODELS:
        raise ValueError(f"unknown baseline {model!r}; valid: {', '.join(MODELS)}")
    try:
        from sklearn import ensemble
    except ImportError as e:
        raise ImportError("the tree baselines need scikit-learn: pip install 'jaxdl[baselines]'") from e
    fit = [data.load_arrays(dataset, s, data_dir=data_dir) for s in ("train", "validation")]
    test = data.load_arrays(dataset, "test", data_dir=data_dir)
    x_train, y_train = np.concatenate([_features(a) for a in fit]), np.concatenate([a["y"] for a in fit])
    if model == "random_forest":
        estimator = ensemble.RandomForestRegressor(n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs)
    else:
        estimator = ensemble.HistGradientBoostingRegressor(max_iter=n_estimators, random_state=seed)
    start = time.perf_counter()
    estimator.fit(x_train, y_train)
    seconds = time.perf_counter() - start
    err = estimator.predict(_features(test)) - test["y"]
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err))),
            "train_rows": len(y_train), "test_rows": len(err), "fit_seconds": seconds}


def report(model: str = "random_forest", *, dataset: str = "diamonds", n_estimators: int = 300, seed: int = 0,
           n_jobs: int = -1, data_dir: str | None = None) -> str:
    """What `jaxdl baseline tabular` prints: the fitted model's test RMSE and MAE."""
    result = fit_and_score(model, dataset=dataset, n_estimators=n_estimators, seed=seed, n_jobs=n_jobs,
                           data_dir=data_dir)
    return (f"{model} ({n_estimators}) on {dataset}: test rmse {result['rmse']:.4f} "
            f"mae {result['mae']:.4f} ({result['train_rows']} train rows, {result['test_rows']} test rows, "
            f"fit {result['fit_seconds']:.1f}s)")
