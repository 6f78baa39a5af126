"""The typed settings: built once from a validated config, immutable, and deriving what the
modules used to derive each for itself."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, SMALL, production_config, small_config
from lenspipe.config import merge_config, validated_settings
from lenspipe.settings import Settings, SimulationSettings, simulation_settings
from lenspipe.simulation.parameters import (
    CUT_COLUMNS,
    SUBHALO_COLUMNS,
    image_columns,
    time_delay_columns,
)
from lenspipe.simulation.priors import parse_prior

DEFAULT_CHUNK = Path(__file__).parent / "data" / "default_chunk_30_lenses.npz"
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


def default_columns() -> list[str]:
    """The columns of the default system, as the recorded default chunk has them."""
    return np.load(DEFAULT_CHUNK)["parameter_names"].tolist()


# What the modules used to derive each for itself (lenspipe.config.image_shape and bands,
# simulation.parameters.parameter_names, cut_enabled and lens_model_list,
# simulation.subhalos.subhalos_enabled), by variant: the same answers, now in one place.
PLAIN = {
    "shape": (32, 32, 1),
    "bands": ("i",),
    "extra_columns": [],
    "cut": False,
    "subhalos": False,
    "lens_model_list": ["SIE", "SHEAR"],
}
EXPECTED = {
    "default": PLAIN,
    "epl_redshifts_quasar_cut": {
        **PLAIN,
        "extra_columns": ["lens_gamma", "lens_z", "source_z", "point_source_magnitude"]
        + image_columns()
        + time_delay_columns()
        + CUT_COLUMNS,
        "cut": True,
        "lens_model_list": ["EPL_NUMBA", "SHEAR"],
    },
    "subhalos": {
        **PLAIN,
        "extra_columns": ["lens_z", "source_z"] + SUBHALO_COLUMNS,
        "subhalos": True,
    },
    "three_bands_correlated": {**PLAIN, "shape": (32, 32, 3), "bands": ("g", "r", "i")},
    "custom_pixels": {**PLAIN, "shape": (48, 48, 1)},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_settings_derive_what_the_modules_derived(variant):
    config, expected = small_config(**VARIANTS[variant]), EXPECTED[variant]
    settings = SimulationSettings.from_config(config)
    assert settings.image.shape == expected["shape"]
    assert settings.observation.bands == expected["bands"]
    assert list(settings.columns.names) == default_columns() + expected["extra_columns"]
    assert settings.cut.enabled == expected["cut"]
    assert (settings.lens_system.subhalos is not None) == expected["subhalos"]
    assert settings.lens_system.lens_model_list == expected["lens_model_list"]
    # One parsed prior per sampled column, the one its config entry gives.
    priors = settings.priors.by_column
    assert tuple(priors) == settings.columns.sampled
    components = sorted(set(config["priors"]) - {"correlations"}, key=len, reverse=True)
    for column, prior in priors.items():
        component = next(c for c in components if column.startswith(f"{c}_"))  # longest first
        name = column[len(component) + 1 :]
        spec = config["priors"][component][name]
        assert prior == parse_prior(f"priors.{component}.{name}", spec)


def test_the_copula_and_the_colours_are_derived_once():
    settings = SimulationSettings.from_config(small_config(**VARIANTS["three_bands_correlated"]))
    copula = settings.priors.copula
    columns = settings.columns.sampled
    assert copula.indices == (columns.index("lens_e1"), columns.index("lens_light_e1"))
    np.testing.assert_allclose(copula.cholesky, [[1.0, 0.0], [0.8, 0.6]])
    colours = small_config()["colours"]
    # Each band's offset from the reference band i, per light component.
    for band, offsets in zip(("g", "r", "i"), settings.observation.colour_offsets):
        for component in ("lens_light", "source"):
            expected = colours[component][band] - colours[component]["i"]
            assert offsets[component] == pytest.approx(expected)
    assert settings.observation.reference_index == 2
    assert SimulationSettings.from_config(small_config()).observation.colour_offsets == ({},)


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


def test_the_whole_run_settings_carry_each_section_the_rules_read():
    config = small_config(
        normalisation={"image_stretch": "linear", "image_range": "per_band"},
        evaluation={"survey_galleries": ["DES"], "learning_curve": [20]},
        baselines={"fit": {"n_lenses": 3, "n_starts": 2}},
        refine={"n_lenses": 5, "chunk_size": 4, "source_grid": 3},
        checkpoint_every=25,
        testing={"seconds_per_lens": 0.5},
    )
    settings = Settings.from_config(config)
    assert dict(settings.normalisation.split) == config["normalisation"]["split"]
    assert (settings.normalisation.image_stretch, settings.normalisation.image_range) == (
        "linear",
        "per_band",
    )
    assert settings.evaluation.survey_galleries == ("DES",)
    assert settings.evaluation.learning_curve == (20,)
    assert settings.evaluation.gallery_size == config["evaluation"]["gallery_size"]
    # The fit's params are the config's section, key for key: a run made before does not rerun.
    assert dataclasses.asdict(settings.fit) == config["baselines"]["fit"]
    assert (settings.fit.n_lenses, settings.fit.n_starts) == (3, 2)
    assert (settings.refine.n_lenses, settings.refine.chunk_size) == (5, 4)
    assert settings.refine.search.source_grid == 3
    assert dataclasses.asdict(settings.refine.search) == {
        name: config["refine"][name] for name in dataclasses.asdict(settings.refine.search)
    }
    assert settings.chunk_jobs.checkpoint_every == 25
    assert settings.chunk_jobs.seconds_per_lens == 0.5
    with pytest.raises(TypeError):
        settings.normalisation.split["train"] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.refine.search.max_steps = 1


def test_the_rules_read_their_settings_from_the_typed_settings_not_the_config():
    rules = sorted((REPO / "workflow" / "rules").glob("*.smk"))
    reads = [
        f"{path.name}:{number}"
        for path in [REPO / "Snakefile", *rules]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "config[" in line
    ]
    assert reads == []


def test_validation_parses_each_prior_once_and_its_settings_keep_those_priors(monkeypatch):
    import lenspipe.settings

    parsed = []

    def counting_parse_prior(field, spec):
        prior = parse_prior(field, spec)
        parsed.append((field, prior))
        return prior

    config = small_config()
    monkeypatch.setattr(lenspipe.settings, "parse_prior", counting_parse_prior)
    settings = validated_settings(config)
    by_column = settings.simulation.priors.by_column
    assert len(parsed) == len(by_column)
    assert [prior for _, prior in parsed] == list(by_column.values())


def test_the_image_settings_read_the_pixel_grid_of_the_observation():
    config = small_config(observation={"overrides": {"pixel_scale": 0.1}}, image={"num_pix": 40})
    image = SimulationSettings.from_config(config).image
    assert (image.num_pix, image.pixel_scale, image.shape) == (40, 0.1, (40, 40, 1))


def test_validation_returns_the_settings_of_the_config_it_fills():
    config = merge_config(production_config(), SMALL)
    settings = validated_settings(config)
    assert config["image"]["supersampling"] == settings.simulation.image.supersampling  # filled
    assert settings.simulation.as_config() == SimulationSettings.from_config(config).as_config()
    assert settings.targets == tuple(config["training"]["targets"])


def test_a_pixel_kernel_in_the_settings_is_read_only(tmp_path):
    path = tmp_path / "kernel.npy"
    np.save(path, np.ones((1, 1)))
    config = small_config(observation={"psf": "file", "psf_files": {"i": str(path)}})
    kernel = SimulationSettings.from_config(config).observation.band_kwargs[0]
    with pytest.raises(ValueError, match="read-only"):
        kernel["kernel_point_source"][0, 0] = 2.0


def test_runs_without_adaptive_rendering_record_the_settings_of_before():
    from lenspipe.settings import simulation_settings

    recorded = simulation_settings(small_config(image={"supersampling": 1}))
    assert set(recorded["image"]) == {"num_pix", "supersampling", "noise"}
    adaptive = simulation_settings(small_config())
    assert adaptive["image"]["adaptive_supersampling"]["max_factor"] == 32


def test_the_record_hashes_the_input_files_once_when_the_settings_are_made(tmp_path):
    path = tmp_path / "kernel.npy"
    np.save(path, np.full((3, 3), 1 / 9))
    config = small_config(observation={"psf": "file", "psf_files": {"i": str(path)}})
    settings = SimulationSettings.from_config(config)
    recorded = settings.record()
    assert recorded == simulation_settings(config) and str(path) in recorded["input_files_sha256"]
    # Recording again reads nothing: the hash is of the file the settings were made from.
    path.unlink()
    assert settings.record() == recorded
    # Settings made from the record (a job's params) hash the file that job reads.
    kernel = np.zeros((3, 3))
    kernel[1, 1] = 1.0
    np.save(path, kernel)
    remade = SimulationSettings.from_config(recorded).record()
    assert remade["input_files_sha256"] != recorded["input_files_sha256"]
    # The config's fields are the record without the hashes.
    assert "input_files_sha256" not in settings.as_config()
    assert settings.as_config() == {
        key: value for key, value in recorded.items() if key != "input_files_sha256"
    }
    assert settings.as_config()["observation"]["psf_files"] == {"i": str(path)}
