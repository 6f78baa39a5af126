"""Per-lens predictions on the test subset, as a CSV that the comparison reads.

Columns: ``lens_index``, then for each target ``true_<name>``, ``pred_<name>`` and, for a
model with uncertainties, ``sigma_<name>``, all in physical units.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path


def prediction_frame(
    lens_indices: np.ndarray,
    names: list[str],
    truth: np.ndarray,
    prediction: np.ndarray,
    sigma: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per lens: truth, prediction and (if given) sigma of every target."""
    columns = {"lens_index": np.asarray(lens_indices)}
    for k, name in enumerate(names):
        columns[f"true_{name}"] = truth[:, k]
        columns[f"pred_{name}"] = prediction[:, k]
        if sigma is not None:
            columns[f"sigma_{name}"] = sigma[:, k]
    return pd.DataFrame(columns)


def write_predictions(
    path: str | Path,
    lens_indices: np.ndarray,
    names: list[str],
    truth: np.ndarray,
    prediction: np.ndarray,
    sigma: np.ndarray | None = None,
) -> None:
    """Write ``prediction_frame`` as CSV."""
    frame = prediction_frame(lens_indices, names, truth, prediction, sigma)
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)
