"""The refine stage's results: the chunks merged, the uncertainties calibrated, the summary.

The Fisher-matrix sigma of a refined parameter assumes the model renders the image exactly;
what it leaves out (the simulation's adaptive rendering, which the fit imitates but does not
repeat cell for cell) makes it too small by a factor of order 1.3. As the CNN's are, the
refined sigmas are therefore calibrated per target on the validation lenses refined beside the
test lenses (``refine.n_calibration``; ``lenspipe.evaluation.calibration``: a factor and
Student-t tails) and applied to the test lenses. With no calibration lenses the Fisher sigma is
reported as it is.

``refine/predictions.csv`` has one row per refined test lens: ``lens_index``, per target
``true_<t>``, ``pred_<t>`` and ``sigma_<t>`` (physical units; NaN where the fit did not
converge), the CNN's seed (``cnn_<t>``, ``cnn_sigma_<t>``), then ``seconds``, ``converged``,
``chi2``, ``chi2_per_pixel``, ``path``, ``n_descents`` and ``evaluations``.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path, write_json
from lenspipe.evaluation.calibration import Calibration, save_calibration
from lenspipe.evaluation.uncertainty import COVERAGE_LEVELS, GAUSSIAN, coverage
from lenspipe.refinement.pool import RECORD_COLUMNS
from lenspipe.refinement.engine import PATHS
from lenspipe.refinement.selection import CALIBRATION, TEST

CATASTROPHIC_ARCSEC = 0.05
"""A refined lens is a catastrophic failure when its theta_E, or its centre, is further than
this from the truth."""
CAMPAIGN_LENSES = 100_000
"""The campaign size the summary prices in CPU-hours."""


def _arrays(frame: pd.DataFrame, prefix: str, targets: Sequence[str]) -> np.ndarray:
    return frame[[f"{prefix}{name}" for name in targets]].to_numpy(float)


def calibrate_refined(
    calibration_rows: pd.DataFrame, targets: list[str], calibration_path: str | Path
) -> Calibration:
    """Fit and write the calibration of the Fisher sigmas on the converged calibration rows;
    with none, write factors of 1 (the Fisher sigma as it is)."""
    rows = calibration_rows[calibration_rows["converged"].astype(bool)]
    if len(rows) >= 2:
        return save_calibration(
            calibration_path,
            targets,
            _arrays(rows, "true_", targets),
            _arrays(rows, "pred_", targets),
            _arrays(rows, "fisher_sigma_", targets),
        )
    record = {name: {"sigma_scale": 1.0, "tail_dof": None} for name in targets}
    write_json(calibration_path, {"n_validation": int(len(rows)), "parameters": record})
    return Calibration(np.ones(len(targets)), np.full(len(targets), GAUSSIAN))


def prediction_table(
    rows: pd.DataFrame, targets: list[str], sigma_scales: np.ndarray, index: str = "lens_index"
) -> pd.DataFrame:
    """The predictions table of refined rows: ``index`` (their ``lens_index``), per target
    ``true_<t>`` (where the rows have a truth), ``pred_<t>`` and ``sigma_<t>`` (the Fisher
    sigma times the target's ``sigma_scales``), then ``cnn_<t>`` and ``cnn_sigma_<t>``, then
    the record columns."""
    columns: dict[str, Any] = {index: rows["lens_index"].to_numpy()}
    for k, name in enumerate(targets):
        if f"true_{name}" in rows:
            columns[f"true_{name}"] = rows[f"true_{name}"].to_numpy()
        columns[f"pred_{name}"] = rows[f"pred_{name}"].to_numpy()
        columns[f"sigma_{name}"] = rows[f"fisher_sigma_{name}"].to_numpy() * sigma_scales[k]
    for name in targets:
        columns[f"cnn_{name}"] = rows[f"cnn_{name}"].to_numpy()
        columns[f"cnn_sigma_{name}"] = rows[f"cnn_sigma_{name}"].to_numpy()
    for column in RECORD_COLUMNS:
        columns[column] = rows[column].to_numpy()
    return pd.DataFrame(columns)


def catastrophic(predictions: pd.DataFrame) -> np.ndarray:
    """Per converged row, whether theta_E or the lens centre is more than
    ``CATASTROPHIC_ARCSEC`` from the truth (targets the run does not predict are not judged)."""
    bad = np.zeros(len(predictions), bool)
    if "pred_lens_theta_E" in predictions:
        error = predictions["pred_lens_theta_E"] - predictions["true_lens_theta_E"]
        bad |= np.abs(error.to_numpy()) > CATASTROPHIC_ARCSEC
    if {"pred_lens_center_x", "pred_lens_center_y"} <= set(predictions):
        dx = predictions["pred_lens_center_x"] - predictions["true_lens_center_x"]
        dy = predictions["pred_lens_center_y"] - predictions["true_lens_center_y"]
        bad |= np.hypot(dx, dy).to_numpy() > CATASTROPHIC_ARCSEC
    return bad


def refine_summary(
    predictions: pd.DataFrame, targets: list[str], calibration: Calibration
) -> dict[str, Any]:
    """Counts, cost, and per target the refined and CNN RMSE and bias on the converged test
    lenses, their ratio, and the refined coverage at 68 % and 95 %."""
    converged = predictions[predictions["converged"].astype(bool)]
    truth = _arrays(converged, "true_", targets)
    refined, sigma = _arrays(converged, "pred_", targets), _arrays(converged, "sigma_", targets)
    cnn = _arrays(converged, "cnn_", targets)
    seconds = predictions["seconds"].to_numpy(float)
    parameters = {}
    for k, name in enumerate(targets):
        rmse = float(np.sqrt(np.mean((refined[:, k] - truth[:, k]) ** 2)))
        rmse_cnn = float(np.sqrt(np.mean((cnn[:, k] - truth[:, k]) ** 2)))
        parameters[name] = {
            "rmse_refined": rmse,
            "rmse_cnn": rmse_cnn,
            "refined_over_cnn": rmse / rmse_cnn,
            "bias_refined": float(np.mean(refined[:, k] - truth[:, k])),
            "median_sigma": float(np.median(sigma[:, k])),
        }
        for level in COVERAGE_LEVELS:
            cover = coverage(
                truth[:, [k]], refined[:, [k]], sigma[:, [k]], level, calibration.tail_dof[[k]]
            )
            parameters[name][f"coverage_{round(level * 100)}"] = float(cover[0])
    mean_seconds = float(np.mean(seconds)) if len(seconds) else float("nan")
    return {
        "n_refined": int(len(predictions)),
        "n_converged": int(len(converged)),
        "n_failed": int(len(predictions) - len(converged)),
        "n_catastrophic": int(catastrophic(converged).sum()),
        "paths": {path: int((predictions["path"] == path).sum()) for path in PATHS},
        "seconds_per_lens_mean": mean_seconds,
        "seconds_per_lens_median": float(np.median(seconds)) if len(seconds) else float("nan"),
        "cpu_hours_per_100k_lenses": mean_seconds * CAMPAIGN_LENSES / 3600,
        "parameters": parameters,
    }


def merge_refined(
    chunk_paths: Sequence[str | Path],
    targets: list[str],
    predictions_path: str | Path,
    calibration_path: str | Path,
    summary_path: str | Path,
) -> dict[str, Any]:
    """Merge the refine chunks, calibrate on the calibration rows, write the test lenses'
    predictions, the calibration and the summary; return the summary."""
    table = pd.concat([pd.read_csv(path) for path in chunk_paths], ignore_index=True)
    calibration = calibrate_refined(table[table["role"] == CALIBRATION], targets, calibration_path)
    predictions = prediction_table(table[table["role"] == TEST], targets, calibration.sigma_scales)
    with atomic_path(predictions_path) as temporary:
        predictions.to_csv(temporary, index=False)
    summary = refine_summary(predictions, targets, calibration)
    write_json(summary_path, summary)
    return summary
