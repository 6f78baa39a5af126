"""The typed settings: built once from a validated config, immutable, and deriving what the
modules used to derive each for itself."""

import dataclasses

import numpy as np
import pytest
from conftest import small_config
from lenspipe.config import bands, image_shape, parse_priors, prior_copula, simulation_settings
from lenspipe.settings import Settings, SimulationSettings, light_components
from lenspipe.simulation.bands import colour_offsets
from lenspipe.simulation.parameters import cut_enabled, lens_model_list, parameter_names
from lenspipe.simulation.subhalos import subhalos_enabled

CORRELATED = [{"parameters": ["lens_light_e1", "lens_e1"], "coefficient": 0.8}]

# The lens systems whose columns differ: the default, each switch, and all of them at once.
VARIANTS = {
    "default": {},
    "epl_redshifts_quasar_cut": {
        "lens_system": {"mass": "EPL_NUMBA", "redshifts": True, "point_source": True},
        "lensing_cut": {"min_images": 2, "min_arc_snr": 5.0},
    },
    "subhalos": {"lens_system": {"redshifts": True, "subhalos": {"mean_count": 6}}},
    "three_bands_correlated": {
        "observation": {"band": "i", "bands": ["g", "r", "i"]},
        "priors": {"correlations": CORRELATED},
    },
    "custom_pixels": {"image": {"num_pix": 48, "supersampling": 2, "noise": False}},
}


@pytest.fixture(params=list(VARIANTS), scope="module")
def config(request) -> dict:
    return small_config(**VARIANTS[request.param])


def test_the_settings_derive_what_the_modules_derived(config):
    settings = SimulationSettings.from_config(config)
    assert settings.image.shape == image_shape(config)
    assert settings.observation.bands == tuple(bands(config))
    assert settings.columns.names == parameter_names(config)
    assert settings.cut.enabled == cut_enabled(config)
    assert (settings.lens_system.subhalos is not None) == subhalos_enabled(config)
    assert settings.lens_system.lens_model_list == lens_model_list(config)
    assert dict(settings.priors.by_column) == parse_priors(config)
    copula = prior_copula(config)
    if copula is None:
        assert settings.priors.copula is None
    else:
        assert settings.priors.copula.indices == copula.indices
        np.testing.assert_array_equal(settings.priors.copula.cholesky, copula.cholesky)
    imaged = list(bands(config))
    offsets = colour_offsets(
        config["colours"], config["observation"]["band"], imaged, light_components(config)
    )
    assert [dict(band) for band in settings.observation.colour_offsets] == offsets
    assert settings.observation.reference_index == imaged.index(config["observation"]["band"])


def test_the_settings_of_the_recorded_simulation_fields_are_the_same(config):
    """Rule scripts build the settings from the simulation params, not the whole config."""
    whole = SimulationSettings.from_config(config)
    recorded = SimulationSettings.from_config(simulation_settings(config))
    assert recorded.columns == whole.columns
    assert recorded.image == whole.image
    assert recorded.cut == whole.cut
    assert recorded.as_config() == whole.as_config()
    assert simulation_settings(recorded.as_config()) == simulation_settings(config)


def test_the_settings_are_immutable():
    settings = Settings.from_config(small_config(priors={"correlations": CORRELATED}))
    simulation = settings.simulation
    with pytest.raises(dataclasses.FrozenInstanceError):
        simulation.seed = 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        simulation.image.num_pix = 64
    with pytest.raises(TypeError):
        simulation.priors.by_column["lens_theta_E"] = None
    with pytest.raises(TypeError):
        simulation.observation.band_kwargs[0]["pixel_scale"] = 1.0
    with pytest.raises(TypeError):
        simulation.lens_system.cosmology["H0"] = 50
    assert isinstance(settings.targets, tuple)
    assert isinstance(simulation.columns.names, tuple)
    # as_config hands out a copy: changing it changes nothing in the settings.
    copy = simulation.as_config()
    copy["seed"] = 99
    assert simulation.as_config()["seed"] == simulation.seed == 7


def test_the_whole_run_settings_carry_the_targets():
    config = small_config()
    settings = Settings.from_config(config)
    assert settings.targets == tuple(config["training"]["targets"])
    assert set(settings.targets) <= set(settings.simulation.columns.names)


def test_the_image_settings_read_the_pixel_grid_of_the_observation():
    config = small_config(observation={"overrides": {"pixel_scale": 0.1}}, image={"num_pix": 40})
    image = SimulationSettings.from_config(config).image
    assert (image.num_pix, image.pixel_scale, image.shape) == (40, 0.1, (40, 40, 1))
