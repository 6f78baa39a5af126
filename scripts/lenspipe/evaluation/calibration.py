"""Calibration of the predicted uncertainties, fit on the validation subset only.

A network trained with a Gaussian likelihood learns standard deviations of the right shape
(larger for harder lenses) but not always of the right size, and its errors are often not
Gaussian: the 68 % interval of one target may hold 80 % of the lenses while its rare large
errors fall outside a Gaussian 95 % interval. Calibration fixes both, per target, on the
validation lenses (never the test lenses) after training, and is written beside the model as
``calibration.json`` and applied to every prediction made with it:

- ``sigma_scale`` multiplies sigma so that 68.27 % of the validation lenses lie within
  ±1 sigma;
- ``tail_dof`` gives the error distribution the tails the validation lenses show: a
  Student-t with that many degrees of freedom (scaled to the same ±1 sigma interval), chosen
  so that 95 % of them lie within its 95 % interval. Errors no heavier-tailed than a Gaussian
  keep a Gaussian (``tail_dof`` null in the file); their factor is then the geometric mean of
  the factors that would place each level alone.

For a Student-t target both reported levels (68 % and 95 %) are then met exactly on the
validation subset, and the test subset's coverage differs from them only by the sampling noise
of the two subsets. (Tails heavier than a Cauchy distribution's are fit with one degree of
freedom, which leaves the 95 % interval too narrow.)
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lenspipe.atomic import write_json
from lenspipe.evaluation.uncertainty import COVERAGE_LEVELS, GAUSSIAN, coverage, half_width
from scipy.optimize import brentq

HEAVIEST_TAILS = 1.0
"""The fewest degrees of freedom a fit may give (a Cauchy distribution)."""

LIGHTEST_TAILS = 1e6
"""Tails closer to a Gaussian than a Student-t with this many degrees of freedom are Gaussian."""


@dataclass(frozen=True)
class Calibration:
    """Per target: the factor on sigma and the degrees of freedom of the error distribution
    (``GAUSSIAN`` for Gaussian tails)."""

    sigma_scales: np.ndarray
    tail_dof: np.ndarray


def _tail_dof(width_ratio: float) -> float:
    """The degrees of freedom whose 95 % interval is ``width_ratio`` times its 68.27 % one."""
    level = COVERAGE_LEVELS[1]
    if width_ratio <= half_width(level, LIGHTEST_TAILS):
        return GAUSSIAN
    if width_ratio >= half_width(level, HEAVIEST_TAILS):
        return HEAVIEST_TAILS
    log_dof = brentq(
        lambda log: half_width(level, np.exp(log)) - width_ratio,
        np.log(HEAVIEST_TAILS),
        np.log(LIGHTEST_TAILS),
    )
    return float(np.exp(log_dof))


def fit_calibration(truth: np.ndarray, mean: np.ndarray, sigma: np.ndarray) -> Calibration:
    """Per column, the factor on ``sigma`` and the tails that make the central 68.27 % and 95 %
    intervals cover those fractions of these (validation) rows."""
    standardised = np.abs(truth - mean) / sigma
    one_sigma, wide = (np.quantile(standardised, level, axis=0) for level in COVERAGE_LEVELS)
    if np.any(one_sigma <= 0):
        columns = np.flatnonzero(one_sigma <= 0).tolist()
        raise ValueError(f"columns {columns}: most errors are exactly 0, nothing to calibrate")
    tail_dof = np.array([_tail_dof(ratio) for ratio in wide / one_sigma])
    gaussian_scale = np.sqrt(one_sigma * wide / half_width(COVERAGE_LEVELS[1]))
    scales = np.where(np.isinf(tail_dof), gaussian_scale, one_sigma)
    return Calibration(scales, tail_dof)


def save_calibration(
    path: str | Path,
    names: list[str],
    truth: np.ndarray,
    mean: np.ndarray,
    sigma: np.ndarray,
) -> Calibration:
    """Fit the calibration on these (validation) predictions and write it, with the coverage
    before and after, as JSON; return it."""
    calibration = fit_calibration(truth, mean, sigma)
    record = {
        name: {
            "sigma_scale": float(scale),
            "tail_dof": None if np.isinf(dof) else float(dof),
            "half_width_95": float(half_width(COVERAGE_LEVELS[1], dof)),
        }
        for name, scale, dof in zip(names, calibration.sigma_scales, calibration.tail_dof)
    }
    scaled = sigma * calibration.sigma_scales
    for level in COVERAGE_LEVELS:
        key = f"validation_coverage_{round(level * 100)}"
        before = coverage(truth, mean, sigma, level)
        after = coverage(truth, mean, scaled, level, calibration.tail_dof)
        for column, name in enumerate(names):
            record[name][f"{key}_before"] = float(before[column])
            record[name][f"{key}_after"] = float(after[column])
    write_json(path, {"n_validation": int(len(truth)), "parameters": record})
    return calibration


def load_calibration(path: str | Path, names: list[str]) -> Calibration:
    """The calibration of ``names`` (in that order) from a file written by
    ``save_calibration``. A file without ``tail_dof`` (written before lenspipe fit the tails)
    is Gaussian.

    Raises ValueError naming the file when a target has no factor.
    """
    parameters = json.loads(Path(path).read_text())["parameters"]
    missing = [name for name in names if name not in parameters]
    if missing:
        raise ValueError(f"{path}: no sigma_scale for {', '.join(missing)}")
    dof = [parameters[name].get("tail_dof") for name in names]
    return Calibration(
        np.array([parameters[name]["sigma_scale"] for name in names]),
        np.array([GAUSSIAN if value is None else value for value in dof], dtype=float),
    )
