"""Simulation: real lenstronomy images, deterministic per lens whatever the chunking."""

import numpy as np
import pytest
from conftest import small_config
from lenspipe.data.chunk_files import chunk_range
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.simulate import LensSimulator


def test_images_are_finite_float32_of_the_configured_shape():
    simulator = LensSimulator(SimulationSettings.from_config(small_config()))
    images, parameters = simulator.simulate_many(range(5))
    assert images.shape == (5, 32, 32, 1)
    assert images.dtype == np.float32
    assert parameters.shape == (5, len(simulator.parameter_names))
    assert np.isfinite(images).all() and np.isfinite(parameters).all()


def test_lens_light_is_brightest_near_the_lens_centre():
    config = small_config(
        image={"noise": False},
        priors={
            "source": {"magnitude": {"dist": "uniform", "min": 30.0, "max": 31.0}},
            "lens": {
                "center_x": {"dist": "uniform", "min": 0.8, "max": 0.81},
                "center_y": {"dist": "uniform", "min": -0.61, "max": -0.6},
            },
        },
    )
    simulator = LensSimulator(SimulationSettings.from_config(config))
    image, parameters = simulator.simulate(3)
    values = dict(zip(simulator.parameter_names, parameters))
    pixel_scale = 0.2  # LSST
    y, x = np.unravel_index(np.argmax(image[..., 0]), image.shape[:2])
    centre = (config["image"]["num_pix"] - 1) / 2
    assert abs((x - centre) * pixel_scale - values["lens_center_x"]) <= pixel_scale
    assert abs((y - centre) * pixel_scale - values["lens_center_y"]) <= pixel_scale


def test_lens_is_identical_whatever_the_chunking_and_order():
    config = small_config()
    whole, whole_parameters = LensSimulator(SimulationSettings.from_config(config)).simulate_many(
        range(12)
    )
    pieces = {}
    for lenses in (range(7, 12), range(0, 3), range(3, 7)):  # out of order, fresh simulators
        images, parameters = LensSimulator(SimulationSettings.from_config(config)).simulate_many(
            lenses
        )
        for row, lens in enumerate(lenses):
            pieces[lens] = images[row], parameters[row]
    for lens in range(12):
        assert np.array_equal(pieces[lens][0], whole[lens])
        assert np.array_equal(pieces[lens][1], whole_parameters[lens])


def test_a_lens_draws_the_same_values_alone_as_with_many_others():
    # simulate_many calls each prior's inverse CDF once for all its lenses; a lens simulated
    # alone (as for a redraw or a convergence map) must get the same bytes.
    config = small_config(
        priors={
            "lens": {"theta_E": {"dist": "log_uniform", "min": 0.9, "max": 1.8}},
            "correlations": [{"parameters": ["lens_light_e1", "lens_e1"], "coefficient": 0.8}],
        }
    )
    simulator = LensSimulator(SimulationSettings.from_config(config))
    images, parameters = simulator.simulate_many(range(40))
    for lens in range(0, 40, 3):
        image, row = simulator.simulate(lens)
        assert np.array_equal(row, parameters[lens])
        assert np.array_equal(image, images[lens])


def test_another_seed_gives_other_lenses():
    first, _ = LensSimulator(SimulationSettings.from_config(small_config(seed=1))).simulate(0)
    second, _ = LensSimulator(SimulationSettings.from_config(small_config(seed=2))).simulate(0)
    assert not np.array_equal(first, second)


def test_parameters_follow_their_priors():
    config = small_config(
        priors={"lens": {"theta_E": {"dist": "uniform", "min": 1.1, "max": 1.3}}}
    )
    config["priors"]["shear"]["gamma1"] = {"dist": "fixed", "value": 0.05}
    simulator = LensSimulator(SimulationSettings.from_config(config))
    _, parameters = simulator.simulate_many(range(50))
    names = simulator.parameter_names
    theta_e = parameters[:, names.index("lens_theta_E")]
    assert theta_e.min() >= 1.1 and theta_e.max() <= 1.3
    assert np.all(parameters[:, names.index("shear_gamma1")] == 0.05)


def test_noise_has_the_variance_lenstronomy_expects():
    simulator = LensSimulator(SimulationSettings.from_config(small_config()))
    noisy, parameters = simulator.simulate(0)
    model = simulator.render(parameters).models[0]
    expected_sigma = simulator._sims[0].estimate_noise(model)
    pulls = (noisy[..., 0] - model) / expected_sigma
    assert abs(pulls.std() - 1.0) < 0.1
    assert abs(pulls.mean()) < 0.1


def test_noise_free_config_renders_the_model_image():
    simulator = LensSimulator(SimulationSettings.from_config(small_config(image={"noise": False})))
    image, parameters = simulator.simulate(0)
    assert np.allclose(image[..., 0], simulator.render(parameters).models[0], rtol=1e-6)


def test_chunk_ranges_cover_every_lens_once():
    covered = [lens for chunk in range(3) for lens in chunk_range(chunk, 60, 25)]
    assert covered == list(range(60))


@pytest.mark.parametrize(
    "survey, band",
    [
        ("LSST", "g"),
        ("DES", "r"),
        ("Euclid", "VIS"),
        ("ZTF", "i"),
        ("HST", "WFC3_F160W"),
        ("Roman", "F106"),
    ],
)
def test_every_survey_preset_renders_a_finite_image(survey, band):
    config = small_config(observation={"survey": survey, "band": band, "coadd_years": None})
    image, _ = LensSimulator(SimulationSettings.from_config(config)).simulate(0)
    assert np.isfinite(image).all() and image.max() > 0
