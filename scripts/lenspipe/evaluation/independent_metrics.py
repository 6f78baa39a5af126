"""Metrics of the trained model on the run's test split and on independent test campaigns,
and the table that puts them side by side (``independent_tests.csv``).

Every sample is scored from its predictions CSV (``lenspipe.evaluation.predictions``) by the same
functions: the regression metrics of ``lenspipe.evaluation.metrics``, the coverage of
``lenspipe.evaluation.uncertainty`` when the model has uncertainties, and the fraction of lenses whose
true value lies outside the training range of the run's normalisation (where the network
extrapolates). No TensorFlow here: the table is a quick job on the driver.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path
from lenspipe.data.normalise import Normalisation, load_normalisation
from lenspipe.evaluation.calibration import load_calibration
from lenspipe.evaluation.metrics import metrics_with_coverage

TEST_SPLIT = "test split"
"""The label of the run's own test subset in the side-by-side table (a campaign's name has no
spaces, so it cannot take it)."""

SIDE_BY_SIDE_COLUMNS = (
    "n_lenses",
    "rmse",
    "rmse_over_test_split",
    "bias",
    "r2",
    "coverage_68",
    "coverage_95",
    "outside_training_range",
)


def outside_training_range(
    truth: np.ndarray, names: list[str], normalisation: Normalisation
) -> np.ndarray:
    """Per target of ``names`` (the columns of ``truth``), the fraction of lenses whose true
    value lies outside the MinMax range of the training subset (where the network has to
    extrapolate)."""
    columns = [normalisation.targets.index(name) for name in names]
    low = normalisation.target_scaler.data_min_[columns]
    high = normalisation.target_scaler.data_max_[columns]
    return np.mean((truth < low) | (truth > high), axis=0)


def sample_metrics(
    truth: np.ndarray,
    prediction: np.ndarray,
    sigma: np.ndarray | None,
    names: list[str],
    normalisation: Normalisation,
    tail_dof: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per target: the metrics of ``lenspipe.evaluation.metrics``, the coverage of
    ``lenspipe.evaluation.uncertainty`` when there are uncertainties (with the tails
    ``tail_dof``), and ``outside_training_range``.
    """
    table = metrics_with_coverage(truth, prediction, sigma, names, tail_dof)
    return table.assign(outside_training_range=outside_training_range(truth, names, normalisation))


def frame_arrays(
    frame: pd.DataFrame, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Truth, prediction and (if the frame has them) sigma of ``names`` from a predictions
    frame (``lenspipe.evaluation.predictions``)."""
    truth = frame[[f"true_{name}" for name in names]].to_numpy()
    prediction = frame[[f"pred_{name}" for name in names]].to_numpy()
    sigma_columns = [f"sigma_{name}" for name in names]
    sigma = frame[sigma_columns].to_numpy() if set(sigma_columns) <= set(frame) else None
    return truth, prediction, sigma


def side_by_side(
    names: list[str],
    samples: dict[str, pd.DataFrame],
    normalisation: Normalisation,
    tail_dof: np.ndarray | None = None,
) -> pd.DataFrame:
    """Rows (parameter, sample), each target's samples together in the order given (the
    run's test split first), with the columns of ``SIDE_BY_SIDE_COLUMNS``.

    ``samples`` maps a label to a predictions frame; ``rmse_over_test_split`` is each RMSE
    over that of the ``TEST_SPLIT`` sample, and the coverage (with the model's tails
    ``tail_dof``) is NaN for a model without uncertainties.
    """
    tables = {
        label: sample_metrics(*frame_arrays(frame, names), names, normalisation, tail_dof).assign(
            n_lenses=len(frame)
        )
        for label, frame in samples.items()
    }
    reference = tables[TEST_SPLIT]["rmse"]
    rows = [
        {
            "parameter": name,
            "sample": label,
            **table.loc[name].to_dict(),
            "rmse_over_test_split": table.loc[name, "rmse"] / reference[name],
        }
        for name in names
        for label, table in tables.items()
    ]
    frame = pd.DataFrame(rows).set_index(["parameter", "sample"])
    return frame.reindex(columns=list(SIDE_BY_SIDE_COLUMNS)).astype({"n_lenses": int})


def write_side_by_side(
    names: list[str],
    predictions: dict[str, str | Path],
    normalisation_path: str | Path,
    calibration_path: str | Path | None,
    table_path: str | Path,
) -> pd.DataFrame:
    """Read each sample's predictions CSV (the ``TEST_SPLIT`` one included), write the
    ``side_by_side`` table (with the model's calibration; None for a model without
    uncertainties) as CSV, and return it."""
    samples = {label: pd.read_csv(path) for label, path in predictions.items()}
    tail_dof = (
        None if calibration_path is None else load_calibration(calibration_path, names).tail_dof
    )
    table = side_by_side(names, samples, load_normalisation(normalisation_path), tail_dof)
    with atomic_path(table_path) as temporary:
        table.to_csv(temporary)
    return table
