"""Calibration of the predicted uncertainties, fit on the validation subset only.

A network trained with a Gaussian likelihood learns standard deviations of the right shape
(larger for harder lenses) but not always of the right size: the 68 % interval of one target
may hold 80 % of the lenses. Calibration fixes the size with one factor per target, fit on the
validation lenses (never the test lenses) after training, written beside the model as
``calibration.json`` and applied to every prediction made with it.

The factor makes the standardised errors ``z = |truth - mean| / sigma`` of the validation
lenses match a Gaussian at both reported levels: it is the geometric mean of the factor that
puts 68.27 % of them within ±1 sigma and the one that puts 95 % within ±1.96 sigma. (One
level alone would fix that level and leave the other to the tails of the error distribution.)
"""

import json
from pathlib import Path

import numpy as np
from lenspipe.atomic import write_json
from lenspipe.evaluation.uncertainty import COVERAGE_LEVELS, coverage, half_width


def fit_sigma_scales(truth: np.ndarray, mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Per column, the factor to multiply ``sigma`` by so that the intervals cover as claimed."""
    standardised = np.abs(truth - mean) / sigma
    factors = [
        np.quantile(standardised, level, axis=0) / half_width(level) for level in COVERAGE_LEVELS
    ]
    return np.sqrt(factors[0] * factors[1])


def save_calibration(
    path: str | Path,
    names: list[str],
    truth: np.ndarray,
    mean: np.ndarray,
    sigma: np.ndarray,
) -> np.ndarray:
    """Fit the factors on these (validation) predictions and write them, with the coverage
    before and after, as JSON; return the factors."""
    scales = fit_sigma_scales(truth, mean, sigma)
    record = {name: {"sigma_scale": float(scale)} for name, scale in zip(names, scales)}
    for level in COVERAGE_LEVELS:
        key = f"validation_coverage_{round(level * 100)}"
        before = coverage(truth, mean, sigma, level)
        after = coverage(truth, mean, sigma * scales, level)
        for column, name in enumerate(names):
            record[name][f"{key}_before"] = float(before[column])
            record[name][f"{key}_after"] = float(after[column])
    write_json(path, {"n_validation": int(len(truth)), "parameters": record})
    return scales


def load_sigma_scales(path: str | Path, names: list[str]) -> np.ndarray | None:
    """The factors of ``names`` (in that order) from a file written by ``save_calibration``;
    None for a model without uncertainties (``parameters`` null).

    Raises ValueError naming the file when a target has no factor.
    """
    parameters = json.loads(Path(path).read_text())["parameters"]
    if parameters is None:
        return None
    missing = [name for name in names if name not in parameters]
    if missing:
        raise ValueError(f"{path}: no sigma_scale for {', '.join(missing)}")
    return np.array([parameters[name]["sigma_scale"] for name in names])
