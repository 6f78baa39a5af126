"""The calibration figure of a model with uncertainties: the observed coverage of its central
intervals on the test subset against their nominal coverage, from its test predictions (with
their calibrated standard deviations) and the tails of its calibration. No TensorFlow here:
the figure is a quick job on the driver.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from lenspipe.evaluation.calibration import load_calibration
from lenspipe.evaluation.independent_metrics import frame_arrays
from lenspipe.evaluation.plots import plot_calibration
from lenspipe.evaluation.uncertainty import calibration_curve

CALIBRATION_LEVELS = np.linspace(0.05, 0.95, 19)


def draw_calibration_plot(
    names: list[str],
    predictions_path: str | Path,
    calibration_path: str | Path,
    plot_path: str | Path,
) -> np.ndarray:
    """Draw the observed against the nominal coverage of every target of ``names`` at
    ``CALIBRATION_LEVELS``, and its offset from nominal beside the sampling noise of as many
    lenses; return the observed coverage (levels, targets). Raises ValueError when the
    predictions have no standard deviations."""
    truth, prediction, sigma = frame_arrays(pd.read_csv(predictions_path), names)
    if sigma is None:
        raise ValueError(f"{predictions_path}: no sigma_<target> columns to draw coverage from")
    tail_dof = load_calibration(calibration_path, names).tail_dof
    observed = calibration_curve(truth, prediction, sigma, CALIBRATION_LEVELS, tail_dof)
    plot_calibration(CALIBRATION_LEVELS, observed, names, len(truth), plot_path)
    return observed
