"""Coverage arithmetic and the conversion of sigma back to physical units."""

import numpy as np
import pytest
from lenspipe.data.normalise import ImageScaling, Normalisation
from lenspipe.evaluation.uncertainty import (
    coverage,
    coverage_standard_error,
    coverage_table,
    half_width,
)
from sklearn.preprocessing import MinMaxScaler


def test_half_widths_of_the_reported_intervals():
    assert half_width(0.6827) == pytest.approx(1.0, abs=1e-3)
    assert half_width(0.95) == pytest.approx(1.96, abs=1e-3)


def test_heavier_tails_widen_the_95_percent_interval():
    widths = half_width(0.95, np.array([2.0, 4.0, 30.0]))
    assert widths[0] > widths[1] > widths[2] > 1.96
    # A Student-t with 4 degrees of freedom: t(0.975) / t(0.8413) = 2.776 / 1.142.
    assert widths[1] == pytest.approx(2.7764 / 1.1417, rel=1e-3)


def test_coverage_uses_each_columns_tails():
    truth = np.zeros((4, 2))
    mean = np.array([[0.5, 0.5], [2.2, 2.2], [-2.1, -2.1], [3.0, 3.0]])
    sigma = np.ones((4, 2))
    np.testing.assert_allclose(
        coverage(truth, mean, sigma, 0.95, np.array([np.inf, 4.0])), [0.25, 0.75]
    )


def test_coverage_counts_the_truths_inside_the_interval():
    truth = np.array([[0.0], [0.0], [0.0], [0.0]])
    mean = np.array([[0.5], [1.5], [-0.9], [3.0]])
    sigma = np.ones((4, 1))
    assert coverage(truth, mean, sigma, 0.6827)[0] == pytest.approx(0.5)
    assert coverage(truth, mean, sigma, 0.95)[0] == pytest.approx(0.75)


def test_gaussian_errors_with_their_true_sigma_are_calibrated():
    rng = np.random.default_rng(3)
    sigma = rng.uniform(0.1, 2.0, (20000, 2))
    truth = rng.normal(0, 1, (20000, 2))
    mean = truth + sigma * rng.standard_normal((20000, 2))
    table = coverage_table(truth, mean, sigma, ["a", "b"])
    np.testing.assert_allclose(table["coverage_68"], 0.6827, atol=0.01)
    np.testing.assert_allclose(table["coverage_95"], 0.95, atol=0.01)
    # Halving sigma makes the intervals too narrow.
    assert coverage(truth, mean, sigma / 2, 0.6827).max() < 0.45


def test_the_coverage_of_calibrated_intervals_scatters_by_its_standard_error():
    # 2,000 test subsets of 900 lenses with Gaussian errors and their true sigma: the spread
    # of their coverage is the noise the calibration figure shades.
    errors = np.random.default_rng(7).normal(size=(900, 2000))
    ones = np.ones_like(errors)
    for level in (0.6827, 0.95):
        observed = coverage(errors, np.zeros_like(errors), ones, level)
        assert observed.mean() == pytest.approx(level, abs=0.002)
        assert observed.std() == pytest.approx(coverage_standard_error(level, 900), rel=0.1)


def test_sigma_scales_back_by_the_minmax_range():
    scaler = MinMaxScaler().fit(np.array([[0.8, -0.2], [2.0, 0.2]]))
    normalisation = Normalisation(["a", "b"], scaler, ImageScaling("linear", 1.0, 0.0, 1.0))
    physical = normalisation.inverse_sigma(np.array([[0.1, 0.1]]))
    np.testing.assert_allclose(physical, [[0.12, 0.04]])
    # Consistent with the mean's inverse: a shift of sigma in scaled units is sigma physical.
    shifted = normalisation.inverse_targets(np.array([[0.6, 0.6]]))
    base = normalisation.inverse_targets(np.array([[0.5, 0.5]]))
    np.testing.assert_allclose(shifted - base, physical)
