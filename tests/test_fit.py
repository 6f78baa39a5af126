"""The maximum-likelihood baseline: a real lenstronomy fit, started away from the truth."""

import numpy as np
from conftest import small_config

from lenspipe.fit import LensFitter
from lenspipe.simulate import LensSimulator


def test_fit_starts_from_a_prior_draw_and_moves_to_the_truth():
    config = small_config(image={"num_pix": 32})
    simulator, fitter = LensSimulator(config), LensFitter(config)
    image, row = simulator.simulate(4)
    truth = dict(zip(simulator.parameter_names, row))
    start = fitter.start(4)
    fitted, seconds = fitter.fit(image, 4, n_particles=20, n_iterations=40)
    assert fitted == fitter.fit(image, 4, n_particles=20, n_iterations=40)[0]  # seeded
    assert seconds > 0
    for name in ("lens_theta_E", "lens_center_x", "lens_center_y"):
        assert abs(start[name] - truth[name]) > 0.02, name  # not started at the truth
        assert abs(fitted[name] - truth[name]) < abs(start[name] - truth[name]) / 2, name
    assert np.isfinite(list(fitted.values())).all()
