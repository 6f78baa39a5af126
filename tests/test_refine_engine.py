"""CNN-seeded refinement of one lens: real lenstronomy fits of lenses the pipeline rendered,
started from a CNN-like prediction away from the truth."""

import dataclasses

import numpy as np
import pytest
from conftest import small_config
from lenspipe.errors import ImageError
from lenspipe.refinement.pool import refined_row
from lenspipe.refinement.engine import RESTARTS, SEEDED, LensRefiner
from lenspipe.settings import RefineSearch
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.simulate import LensSimulator

LENS = 3  # theta_E 1.93 arcsec: bright arcs
# 64 pixels as in the production and local configs: on small_config's 32 (6.4 arcsec) the arcs
# reach the image's edge, where the fit's pixel-kernel convolution (zero beyond the edge)
# differs from the simulation's Gaussian filter (the edge value continued) by several sigma.
IMAGE = {"image": {"num_pix": 64}}
SEARCH = RefineSearch(
    confine_sigmas=5.0,
    source_grid=5,
    max_steps=30,
    max_chi2_per_pixel=1.5,
    n_restarts=2,
    restart_sigmas=3.0,
)
# About the CNN's calibrated sigma of the local default, and a seed 1.5 of them away from the
# truth in a different direction for each target.
CNN_SIGMA = {
    "lens_theta_E": 0.03,
    "lens_e1": 0.05,
    "lens_e2": 0.05,
    "lens_center_x": 0.027,
    "lens_center_y": 0.027,
    "shear_gamma1": 0.025,
    "shear_gamma2": 0.025,
}
OFFSET_IN_SIGMA = dict(zip(CNN_SIGMA, [1.5, -1.5, 1.5, -1.5, 1.5, -1.5, 1.5]))


@pytest.fixture(scope="module")
def settings():
    return SimulationSettings.from_config(small_config(**IMAGE))


@pytest.fixture(scope="module")
def refiner(settings):
    return LensRefiner(settings, SEARCH)


@pytest.fixture(scope="module")
def lens(settings):
    """Image and true parameter columns of lens LENS."""
    simulator = LensSimulator(settings)
    image, row = simulator.simulate(LENS)
    return image, dict(zip(simulator.parameter_names, row))


def cnn_seed(truth):
    return {name: truth[name] + OFFSET_IN_SIGMA[name] * CNN_SIGMA[name] for name in CNN_SIGMA}


@pytest.fixture(scope="module")
def refined(refiner, lens):
    image, truth = lens
    return refiner.refine(image, cnn_seed(truth), CNN_SIGMA, LENS)


def test_the_jacobian_of_the_descent_agrees_with_central_differences(refiner, lens):
    """The Jacobian the descent steps with, and the Fisher matrix is made of, is the
    derivative of the noise-weighted residuals: every column within 1 % of central
    differences taken with steps a hundred times larger."""
    image, truth = lens
    problem, vector = refiner.problem(image), refiner.vector
    start = vector.of_columns(truth)
    start[vector.index("lens_theta_E")] += 0.01
    fit = problem.descend(start, vector.free, (vector.lower, vector.upper), max_steps=2)
    for k in np.flatnonzero(vector.free):
        step = 1e-5 * max(1.0, abs(fit.x[k]))
        up, down = fit.x.copy(), fit.x.copy()
        up[k] += step
        down[k] -= step
        central = (problem.residuals(up) - problem.residuals(down)) / (2 * step)
        difference = np.linalg.norm(fit.jacobian[:, k] - central)
        assert difference <= 0.01 * np.linalg.norm(central), vector.names[k]
    # The residuals are the data's chi^2: their squares sum to the descent's chi^2.
    assert np.sum(problem.residuals(fit.x) ** 2) == pytest.approx(fit.chi2)


def test_a_refined_lens_recovers_its_truth_within_its_sigma(refined, lens):
    _, truth = lens
    seed = cnn_seed(truth)
    assert refined.converged and refined.path == SEEDED and refined.n_descents == 1
    assert 0.5 < refined.chi2_per_pixel <= SEARCH.max_chi2_per_pixel
    for name, sigma in CNN_SIGMA.items():
        error = refined.parameters[name] - truth[name]
        assert abs(seed[name] - truth[name]) > 1.4 * sigma, name  # not started at the truth
        assert 0 < refined.sigma[name] < sigma / 3, name  # far tighter than the CNN's
        # Within 3 of its (uncalibrated, Fisher) sigma, and far closer than the seed.
        assert abs(error) <= 3 * refined.sigma[name], (name, error, refined.sigma[name])
        assert abs(error) < abs(seed[name] - truth[name]) / 5, name
    assert refined.seconds > 0 and refined.evaluations > 0


def test_a_refinement_is_repeatable(refiner, lens, refined):
    image, truth = lens
    again = refiner.refine(image, cnn_seed(truth), CNN_SIGMA, LENS)
    assert again.parameters == refined.parameters and again.sigma == refined.sigma
    assert again.chi2 == refined.chi2


def test_a_lens_that_cannot_converge_falls_back_and_is_reported_as_failed(settings, lens):
    """A threshold no fit can meet (a chi^2 per pixel of 0.2, far under the noise's 1) sends
    the lens through the restarts, and it is reported as failed: no number, its chi^2 kept."""
    image, truth = lens
    strict = LensRefiner(settings, dataclasses.replace(SEARCH, max_chi2_per_pixel=0.2))
    result = strict.refine(image, cnn_seed(truth), CNN_SIGMA, LENS)
    assert not result.converged and result.path == RESTARTS
    assert result.n_descents == 1 + SEARCH.n_restarts
    assert result.chi2_per_pixel > 0.2
    import pandas as pd

    row = refined_row(pd.Series({"lens_index": LENS}), list(CNN_SIGMA), result)
    assert all(np.isnan(row[f"pred_{name}"]) for name in CNN_SIGMA)
    assert all(np.isnan(row[f"fisher_sigma_{name}"]) for name in CNN_SIGMA)
    assert row["chi2"] == result.chi2 and row["path"] == RESTARTS and not row["converged"]


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda image: image[:-1],
            r"lens 3: an image of shape \(63, 64, 1\), expected \(64, 64, 1\)",
        ),
        (lambda image: image[..., 0], r"lens 3: an image of shape \(64, 64\), expected"),
        (
            lambda image: np.where(np.arange(64)[:, None, None] == 5, np.nan, image),
            "64 pixels are NaN",
        ),
    ],
)
def test_a_bad_image_is_refused_naming_the_lens_before_any_fit(refiner, lens, damage, message):
    image, truth = lens
    with pytest.raises(ImageError, match=message):
        refiner.refine(damage(image), cnn_seed(truth), CNN_SIGMA, LENS)
