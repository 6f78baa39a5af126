"""How honest the predicted uncertainties are: interval coverage and calibration.

A prediction with mean ``m`` and standard deviation ``s`` claims that the truth lies within
``m ± z s`` with the Gaussian probability of ``z``: 68.3 % for z = 1, 95 % for z = 1.96. The
coverage is the fraction of test lenses for which it does; calibrated uncertainties have
coverage equal to the claim at every level.
"""

import numpy as np
import pandas as pd
from scipy.special import ndtri

COVERAGE_LEVELS = (0.6827, 0.95)
"""The reported intervals: ±1 sigma (68 %) and ±1.96 sigma (95 %)."""


def half_width(level: float) -> float:
    """z such that a Gaussian lies within ±z sigma of its mean with probability ``level``."""
    return float(ndtri(0.5 + level / 2))


def coverage(truth: np.ndarray, mean: np.ndarray, sigma: np.ndarray, level: float) -> np.ndarray:
    """Per column, the fraction of rows whose truth lies in the central ``level`` interval."""
    return np.mean(np.abs(truth - mean) <= half_width(level) * sigma, axis=0)


def coverage_table(
    truth: np.ndarray, mean: np.ndarray, sigma: np.ndarray, names: list[str]
) -> pd.DataFrame:
    """One row per parameter: coverage at 68 % and 95 % and the median predicted sigma."""
    table = pd.DataFrame(
        {
            "coverage_68": coverage(truth, mean, sigma, COVERAGE_LEVELS[0]),
            "coverage_95": coverage(truth, mean, sigma, COVERAGE_LEVELS[1]),
            "median_sigma": np.median(sigma, axis=0),
        },
        index=pd.Index(names, name="parameter"),
    )
    return table


def calibration_curve(
    truth: np.ndarray, mean: np.ndarray, sigma: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """Observed coverage (len(levels), k) at each nominal ``level``."""
    return np.array([coverage(truth, mean, sigma, level) for level in levels])
