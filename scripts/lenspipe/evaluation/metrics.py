"""Regression metrics per parameter, in physical units."""

import numpy as np
import pandas as pd
from lenspipe.evaluation.uncertainty import coverage_table
from sklearn import metrics

METRIC_COLUMNS = ("rmse", "mae", "median_abs_error", "bias", "r2")


def regression_metrics(
    truth: np.ndarray, prediction: np.ndarray, names: list[str]
) -> pd.DataFrame:
    """Return one row per parameter with RMSE, MAE, median absolute error, bias and R².

    ``truth`` and ``prediction`` are (N, k) arrays whose columns follow ``names``; bias is
    the mean of prediction minus truth.
    """
    rows = []
    for column, name in enumerate(names):
        true, predicted = truth[:, column], prediction[:, column]
        rows.append(
            {
                "parameter": name,
                "rmse": metrics.root_mean_squared_error(true, predicted),
                "mae": metrics.mean_absolute_error(true, predicted),
                "median_abs_error": metrics.median_absolute_error(true, predicted),
                "bias": float(np.mean(predicted - true)),
                "r2": metrics.r2_score(true, predicted),
            }
        )
    return pd.DataFrame(rows, columns=["parameter", *METRIC_COLUMNS]).set_index("parameter")


def metrics_with_coverage(
    truth: np.ndarray,
    prediction: np.ndarray,
    sigma: np.ndarray | None,
    names: list[str],
    tail_dof: np.ndarray | None = None,
) -> pd.DataFrame:
    """``regression_metrics``, joined by the coverage columns of
    ``lenspipe.evaluation.uncertainty.coverage_table`` for a model with uncertainties (``sigma``,
    with the tails ``tail_dof``).
    """
    table = regression_metrics(truth, prediction, names)
    if sigma is None:
        return table
    return table.join(coverage_table(truth, prediction, sigma, names, tail_dof))
