"""Adaptive supersampling: real lenstronomy images against lenstronomy's uniform grids."""

import numpy as np
import pytest
from conftest import production_config, small_config
from lenspipe import seeding
from lenspipe.config import merge_config, validate_config
from lenspipe.errors import ConfigError
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.observation import band_kwargs
from lenspipe.simulation.parameters import (
    LENS_LIGHT_MODEL_LIST,
    SOURCE_MODEL_LIST,
    lenstronomy_kwargs,
)
from lenspipe.simulation.rendering import AdaptiveImageModel, AdaptiveSettings
from lenspipe.simulation.simulate import LensSimulator


def lens_inputs(config: dict, lens_index: int):
    """lenstronomy's SimAPI of ``config`` and the keywords of lens ``lens_index``."""
    from lenstronomy.SimulationAPI.sim_api import SimAPI

    settings = SimulationSettings.from_config(config)
    simulator = LensSimulator(settings)
    sampled = simulator.draw_parameters(seeding.lens_rng(config["seed"], lens_index))
    kwargs = lenstronomy_kwargs(dict(zip(simulator.parameter_names, sampled.tolist())))
    sim = SimAPI(
        num_pix=config["image"]["num_pix"],
        kwargs_single_band=band_kwargs(config["observation"])[0],
        kwargs_model={
            "lens_model_list": settings.lens_system.lens_model_list,
            "lens_light_model_list": LENS_LIGHT_MODEL_LIST,
            "source_light_model_list": SOURCE_MODEL_LIST,
        },
    )
    lens_light, source, _ = sim.magnitude2amplitude(
        kwargs_lens_light_mag=kwargs["kwargs_lens_light_mag"],
        kwargs_source_mag=kwargs["kwargs_source_mag"],
    )
    return sim, {
        "kwargs_lens": kwargs["kwargs_lens"],
        "kwargs_source": source,
        "kwargs_lens_light": lens_light,
    }


def uniform_image(sim, inputs: dict, factor: int) -> np.ndarray:
    model = sim.image_model_class(kwargs_numerics={"supersampling_factor": factor})
    return model.image(**inputs, point_source_add=False)


def adaptive_image(sim, inputs: dict, settings: AdaptiveSettings) -> np.ndarray:
    model = sim.image_model_class(kwargs_numerics={"supersampling_factor": 1})
    adaptive = AdaptiveImageModel(model, sim.estimate_noise, settings)
    return adaptive.image(**inputs, point_source_add=False)


def chi2_per_pixel(image: np.ndarray, reference: np.ndarray, sim) -> float:
    return float(np.mean(((image - reference) / sim.estimate_noise(reference)) ** 2))


def test_every_pixel_split_to_the_bottom_is_lenstronomys_uniform_grid():
    sim, inputs = lens_inputs(small_config(), 3)
    everything = AdaptiveSettings(tolerance=1e-300, candidate_threshold=1e-300, max_factor=4)
    adaptive = adaptive_image(sim, inputs, everything)
    np.testing.assert_allclose(adaptive, uniform_image(sim, inputs, 4), rtol=1e-10, atol=0)
    assert np.abs(adaptive - uniform_image(sim, inputs, 1)).max() > 1e-3 * adaptive.max()


def test_no_pixel_refined_is_lenstronomys_pixel_centre_image():
    sim, inputs = lens_inputs(small_config(), 3)
    nothing = AdaptiveSettings(tolerance=3.0, candidate_threshold=1e300, max_factor=32)
    np.testing.assert_allclose(
        adaptive_image(sim, inputs, nothing), uniform_image(sim, inputs, 1), rtol=1e-12
    )


# Lenses of the production config whose pixel-centre images miss a factor-16 rendering by a
# chi^2 per pixel of about 6,600 (5, a compact source's cusp), 500 (12), 24 (0) and 42 (2,
# the lens light's core).
HARD_LENSES = (5, 12, 0, 2)


@pytest.mark.parametrize("lens_index", HARD_LENSES)
def test_adaptive_rendering_is_within_the_noise_of_a_highly_supersampled_one(lens_index):
    image_settings = {"noise": False, "supersampling": "adaptive"}
    config = validate_config(merge_config(production_config(), {"image": image_settings}))
    simulator = LensSimulator(SimulationSettings.from_config(config))
    image, _ = simulator.simulate(lens_index)
    sim, inputs = lens_inputs(config, lens_index)
    reference = uniform_image(sim, inputs, 16)
    assert chi2_per_pixel(image[..., 0], reference, sim) < 1.0
    assert chi2_per_pixel(uniform_image(sim, inputs, 1), reference, sim) > 10.0


def test_a_lens_renders_the_same_alone_and_among_others():
    adaptive = {"noise": False, "supersampling": "adaptive"}
    settings = SimulationSettings.from_config(small_config(image=adaptive))
    images, _ = LensSimulator(settings).simulate_many([4, 5, 6])
    alone, _ = LensSimulator(settings).simulate(5)
    np.testing.assert_array_equal(images[1], alone)


@pytest.mark.parametrize(
    "image, field",
    [
        ({"supersampling": "adaptiv"}, "image.supersampling"),
        ({"supersampling": 0}, "image.supersampling"),
        ({"supersampling": 2.5}, "image.supersampling"),
        (
            {"adaptive_supersampling": {"max_factor": 24}},
            "image.adaptive_supersampling.max_factor",
        ),
        ({"adaptive_supersampling": {"tolerance": 0}}, "image.adaptive_supersampling.tolerance"),
        (
            {"adaptive_supersampling": {"candidate_threshold": -1.0}},
            "image.adaptive_supersampling.candidate_threshold",
        ),
        ({"adaptive_supersampling": {"tolerence": 1.0}}, "image.adaptive_supersampling.tolerence"),
    ],
)
def test_bad_supersampling_settings_are_named(image, field):
    with pytest.raises(ConfigError, match=f"'{field}'"):
        small_config(image=image)


def test_a_whole_number_is_still_lenstronomys_uniform_factor():
    config = small_config(image={"supersampling": 2, "noise": False})
    image, _ = LensSimulator(SimulationSettings.from_config(config)).simulate(3)
    sim, inputs = lens_inputs(config, 3)
    np.testing.assert_allclose(image[..., 0], uniform_image(sim, inputs, 2), rtol=1e-6)
