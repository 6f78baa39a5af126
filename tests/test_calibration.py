"""Calibration of the uncertainties: a factor and the tails per target, fit on validation lenses."""

import json

import numpy as np
import pytest
from conftest import colour_fraction
from lenspipe.evaluation.calibration import fit_calibration, load_calibration, save_calibration
from lenspipe.evaluation.calibration_plot import CALIBRATION_LEVELS, draw_calibration_plot
from lenspipe.evaluation.predictions import write_predictions
from lenspipe.evaluation.uncertainty import GAUSSIAN, ONE_SIGMA, coverage, half_width


def _errors(rng, n: int, true_sigma: np.ndarray, claimed_factor: np.ndarray, dof=GAUSSIAN):
    """Truth, mean and a claimed sigma that is ``claimed_factor`` times the true one; the
    errors are Student-t with ``dof`` degrees of freedom, scaled so that 68.27 % of them lie
    within ±1 true sigma."""
    k = len(true_sigma)
    sigma = true_sigma * rng.uniform(0.5, 2.0, (n, k))
    truth = rng.normal(0.0, 1.0, (n, k))
    unit = rng.standard_normal((n, k)) if np.isinf(dof) else rng.standard_t(dof, (n, k))
    unit = unit / np.quantile(np.abs(unit), ONE_SIGMA, axis=0)
    return truth, truth + sigma * unit, sigma * claimed_factor


def test_factors_undo_a_sigma_claimed_too_wide_or_too_narrow():
    rng = np.random.default_rng(11)
    claimed = np.array([2.0, 0.5, 1.0])
    truth, mean, sigma = _errors(rng, 20000, np.array([0.1, 1.0, 0.03]), claimed)
    calibration = fit_calibration(truth, mean, sigma)
    np.testing.assert_allclose(calibration.sigma_scales, 1 / claimed, rtol=0.03)


def test_gaussian_errors_keep_gaussian_tails_and_heavy_tails_are_measured():
    rng = np.random.default_rng(14)
    gaussian = _errors(rng, 50000, np.array([0.1]), np.array([1.0]))
    assert fit_calibration(*gaussian).tail_dof[0] > 30
    heavy = _errors(rng, 50000, np.array([0.1]), np.array([1.0]), dof=4)
    assert 3 < fit_calibration(*heavy).tail_dof[0] < 5.5


def test_heavy_tailed_errors_are_calibrated_at_both_levels_on_another_sample():
    rng = np.random.default_rng(12)
    claimed = np.array([1.6, 0.7])
    validation = _errors(rng, 5000, np.array([0.2, 0.05]), claimed, dof=4)
    truth, mean, sigma = _errors(rng, 5000, np.array([0.2, 0.05]), claimed, dof=4)
    calibration = fit_calibration(*validation)
    assert np.all(np.abs(coverage(truth, mean, sigma, ONE_SIGMA) - ONE_SIGMA) > 0.15)
    calibrated = sigma * calibration.sigma_scales
    np.testing.assert_allclose(
        coverage(truth, mean, calibrated, ONE_SIGMA, calibration.tail_dof), ONE_SIGMA, atol=0.02
    )
    np.testing.assert_allclose(
        coverage(truth, mean, calibrated, 0.95, calibration.tail_dof), 0.95, atol=0.01
    )
    # Without the tails, the intervals that hold 68 % are too narrow at 95 %.
    assert np.all(coverage(truth, mean, calibrated, 0.95) < 0.935)


def test_saved_calibration_loads_in_the_order_asked_and_records_the_coverage(tmp_path):
    rng = np.random.default_rng(13)
    gaussian = _errors(rng, 2000, np.array([0.1]), np.array([2.0]))
    heavy = _errors(rng, 2000, np.array([0.2]), np.array([1.0]), dof=3)
    truth, mean, sigma = (np.hstack(pair) for pair in zip(gaussian, heavy))
    path = tmp_path / "calibration.json"
    saved = save_calibration(path, ["a", "b"], truth, mean, sigma)
    loaded = load_calibration(path, ["b", "a"])
    np.testing.assert_array_equal(loaded.sigma_scales, saved.sigma_scales[::-1])
    np.testing.assert_array_equal(loaded.tail_dof, saved.tail_dof[::-1])
    record = json.loads(path.read_text())["parameters"]
    assert json.loads(path.read_text())["n_validation"] == 2000
    assert record["a"]["validation_coverage_68_before"] > 0.9
    assert record["a"]["validation_coverage_68_after"] == pytest.approx(0.68, abs=0.03)
    assert record["b"]["validation_coverage_95_after"] == pytest.approx(0.95, abs=0.005)
    assert record["b"]["half_width_95"] == pytest.approx(half_width(0.95, loaded.tail_dof[0]))


def test_a_calibration_without_tails_is_gaussian(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"n_validation": 3, "parameters": {"a": {"sigma_scale": 2.0}}}))
    calibration = load_calibration(path, ["a"])
    assert calibration.sigma_scales[0] == 2.0
    assert np.isinf(calibration.tail_dof[0])


def test_a_target_without_a_factor_is_named(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"n_validation": 3, "parameters": {"a": {"sigma_scale": 1.0}}}))
    with pytest.raises(ValueError, match="calibration.json: no sigma_scale for b"):
        load_calibration(path, ["a", "b"])


def test_the_calibration_figure_draws_the_test_coverage_at_every_level(tmp_path):
    rng = np.random.default_rng(5)
    names = ["a", "b"]
    truth, mean, sigma = _errors(rng, 500, np.array([1.0, 0.1]), np.array([1.0, 0.5]))
    # a: Gaussian tails; b: the Student-t tails of 4 degrees of freedom.
    parameters = {
        "a": {"sigma_scale": 1.0, "tail_dof": None},
        "b": {"sigma_scale": 1.0, "tail_dof": 4.0},
    }
    (tmp_path / "calibration.json").write_text(json.dumps({"parameters": parameters}))
    write_predictions(tmp_path / "predictions.csv", np.arange(500), names, truth, mean, sigma)
    figure = tmp_path / "calibration.png"
    observed = draw_calibration_plot(
        names, tmp_path / "predictions.csv", tmp_path / "calibration.json", figure
    )
    assert colour_fraction(figure) > 0.001
    tails = np.array([GAUSSIAN, 4.0])
    expected = [coverage(truth, mean, sigma, level, tails) for level in CALIBRATION_LEVELS]
    np.testing.assert_allclose(observed, expected)
    # b's sigma is claimed at half its size: its coverage falls short at every wide level.
    assert np.all(observed[4:, 1] < CALIBRATION_LEVELS[4:] - 0.1)
