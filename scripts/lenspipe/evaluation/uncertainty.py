"""How honest the predicted uncertainties are: interval coverage and calibration.

A prediction with mean ``m`` and uncertainty ``s`` claims that the truth lies within ``m ± s``
with probability 68.27 % (one sigma). Its other intervals follow from the shape of its error
distribution: a Gaussian puts 95 % within ``m ± 1.96 s``; a Student-t with ``tail_dof``
degrees of freedom, scaled to the same 68.27 % interval, has heavier tails and a wider 95 %
interval (``half_width``). The coverage is the fraction of lenses whose truth lies in the
interval; calibrated uncertainties have coverage equal to the claim at every level.
"""

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import erf

ONE_SIGMA = float(erf(1 / np.sqrt(2)))
"""The probability of a Gaussian within ±1 sigma of its mean: 0.6827."""

COVERAGE_LEVELS = (ONE_SIGMA, 0.95)
"""The reported intervals: ±1 sigma (68 %) and 95 %."""

GAUSSIAN = np.inf
"""The ``tail_dof`` of a Gaussian error distribution."""


def half_width(level: float, tail_dof: float | np.ndarray = GAUSSIAN) -> float | np.ndarray:
    """The half-width, in units of sigma, of the central ``level`` interval of a Student-t
    with ``tail_dof`` degrees of freedom (a Gaussian for ``GAUSSIAN``) whose central 68.27 %
    interval is ±1 sigma: 1.96 at 95 % for a Gaussian, more for heavier tails."""
    return stats.t.ppf(0.5 + level / 2, tail_dof) / stats.t.ppf(0.5 + ONE_SIGMA / 2, tail_dof)


def coverage(
    truth: np.ndarray,
    mean: np.ndarray,
    sigma: np.ndarray,
    level: float,
    tail_dof: np.ndarray | None = None,
) -> np.ndarray:
    """Per column, the fraction of rows whose truth lies in the central ``level`` interval;
    ``tail_dof`` (one per column) gives each column's tails, Gaussian if None."""
    widths = half_width(level, GAUSSIAN if tail_dof is None else np.asarray(tail_dof))
    return np.mean(np.abs(truth - mean) <= widths * sigma, axis=0)


def coverage_table(
    truth: np.ndarray,
    mean: np.ndarray,
    sigma: np.ndarray,
    names: list[str],
    tail_dof: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per parameter: coverage at 68 % and 95 % and the median predicted sigma."""
    table = pd.DataFrame(
        {
            "coverage_68": coverage(truth, mean, sigma, COVERAGE_LEVELS[0], tail_dof),
            "coverage_95": coverage(truth, mean, sigma, COVERAGE_LEVELS[1], tail_dof),
            "median_sigma": np.median(sigma, axis=0),
        },
        index=pd.Index(names, name="parameter"),
    )
    return table


def coverage_standard_error(level: float | np.ndarray, n_lenses: int) -> float | np.ndarray:
    """The sampling noise of a coverage measured on ``n_lenses`` lenses whose intervals hold
    exactly ``level``: the binomial standard error, sqrt(level (1 - level) / n). 0.016 at 68 %
    and 0.007 at 95 % on 900 lenses."""
    return np.sqrt(np.asarray(level) * (1 - np.asarray(level)) / n_lenses)


def calibration_curve(
    truth: np.ndarray,
    mean: np.ndarray,
    sigma: np.ndarray,
    levels: np.ndarray,
    tail_dof: np.ndarray | None = None,
) -> np.ndarray:
    """Observed coverage (len(levels), k) at each nominal ``level``."""
    return np.array([coverage(truth, mean, sigma, level, tail_dof) for level in levels])
