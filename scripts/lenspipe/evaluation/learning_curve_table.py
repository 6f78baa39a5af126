"""The learning curve's table and figure: test metrics per target against training-set size.

Every size is scored from its test predictions CSV (``lenspipe.evaluation.predictions``) by
``lenspipe.evaluation.metrics.regression_metrics``, the largest, the whole training subset, from the
train rule's own predictions (``predictions.csv`` of the evaluate rule). No TensorFlow here:
the table is a quick job on the driver.
"""

from pathlib import Path

import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.evaluation.independent_metrics import frame_arrays
from lenspipe.evaluation.metrics import regression_metrics
from lenspipe.evaluation.plots import plot_learning_curve

CURVE_COLUMNS = ("n_test", "rmse", "rmse_over_full", "bias", "mae", "r2")
"""Columns of ``learning_curve.csv``, indexed by (parameter, n_train)."""


def curve_table(names: list[str], samples: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Rows (parameter, n_train), each target's sizes together, smallest first, with the
    columns of ``CURVE_COLUMNS``.

    ``samples`` maps a training-set size to the predictions frame of its model on the test
    subset; ``rmse_over_full`` is each RMSE over that of the largest size.
    """
    sizes = sorted(samples)
    tables = {
        size: regression_metrics(*frame_arrays(samples[size], names)[:2], names).assign(
            n_test=len(samples[size])
        )
        for size in sizes
    }
    full = tables[sizes[-1]]["rmse"]
    rows = [
        {
            "parameter": name,
            "n_train": size,
            **tables[size].loc[name].to_dict(),
            "rmse_over_full": tables[size].loc[name, "rmse"] / full[name],
        }
        for name in names
        for size in sizes
    ]
    frame = pd.DataFrame(rows).set_index(["parameter", "n_train"])
    return frame.reindex(columns=list(CURVE_COLUMNS)).astype({"n_test": int})


def write_learning_curve(
    names: list[str],
    predictions: dict[int, str | Path],
    table_path: str | Path,
    plot_path: str | Path,
) -> pd.DataFrame:
    """Read each size's test predictions CSV, write the ``curve_table`` as CSV and its RMSE
    per target against size as a figure, and return the table."""
    table = curve_table(names, {size: pd.read_csv(path) for size, path in predictions.items()})
    with atomic_path(table_path) as temporary:
        table.to_csv(temporary)
    rmse = table["rmse"].unstack("parameter")[names]
    plot_learning_curve(rmse.index.to_numpy(), rmse.to_numpy(), names, plot_path)
    return table
