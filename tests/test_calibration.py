"""Calibration of the standard deviations: one factor per target, fit on validation lenses."""

import json

import numpy as np
import pytest
from lenspipe.evaluation.calibration import fit_sigma_scales, load_sigma_scales, save_calibration
from lenspipe.evaluation.uncertainty import coverage


def _gaussian_errors(rng, n: int, true_sigma: np.ndarray, claimed_factor: np.ndarray):
    """Truth, mean and a claimed sigma that is ``claimed_factor`` times the true one."""
    sigma = true_sigma * rng.uniform(0.5, 2.0, (n, len(true_sigma)))
    truth = rng.normal(0.0, 1.0, (n, len(true_sigma)))
    mean = truth + sigma * rng.standard_normal((n, len(true_sigma)))
    return truth, mean, sigma * claimed_factor


def test_factors_undo_a_sigma_claimed_too_wide_or_too_narrow():
    rng = np.random.default_rng(11)
    claimed = np.array([2.0, 0.5, 1.0])
    truth, mean, sigma = _gaussian_errors(rng, 20000, np.array([0.1, 1.0, 0.03]), claimed)
    np.testing.assert_allclose(fit_sigma_scales(truth, mean, sigma), 1 / claimed, rtol=0.03)


def test_factors_fit_on_one_sample_calibrate_another():
    rng = np.random.default_rng(12)
    claimed = np.array([1.6, 0.7])
    validation = _gaussian_errors(rng, 5000, np.array([0.2, 0.05]), claimed)
    test = _gaussian_errors(rng, 5000, np.array([0.2, 0.05]), claimed)
    scales = fit_sigma_scales(*validation)
    truth, mean, sigma = test
    assert np.all(np.abs(coverage(truth, mean, sigma, 0.6827) - 0.6827) > 0.15)
    np.testing.assert_allclose(coverage(truth, mean, sigma * scales, 0.6827), 0.6827, atol=0.02)
    np.testing.assert_allclose(coverage(truth, mean, sigma * scales, 0.95), 0.95, atol=0.01)


def test_saved_factors_load_in_the_order_asked_and_record_the_coverage(tmp_path):
    rng = np.random.default_rng(13)
    truth, mean, sigma = _gaussian_errors(rng, 2000, np.array([0.1, 0.2]), np.array([2.0, 1.0]))
    path = tmp_path / "calibration.json"
    scales = save_calibration(path, ["a", "b"], truth, mean, sigma)
    np.testing.assert_array_equal(load_sigma_scales(path, ["b", "a"]), scales[::-1])
    record = json.loads(path.read_text())
    assert record["n_validation"] == 2000
    assert record["parameters"]["a"]["validation_coverage_68_before"] > 0.9
    assert record["parameters"]["a"]["validation_coverage_68_after"] == pytest.approx(
        0.68, abs=0.03
    )


def test_a_target_without_a_factor_is_named(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"n_validation": 3, "parameters": {"a": {"sigma_scale": 1.0}}}))
    with pytest.raises(ValueError, match="calibration.json: no sigma_scale for b"):
        load_sigma_scales(path, ["a", "b"])


def test_a_model_without_uncertainties_has_no_factors(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"n_validation": 3, "parameters": None}))
    assert load_sigma_scales(path, ["a"]) is None
