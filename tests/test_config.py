"""Config validation: defaults, and a named error for every kind of bad input."""

import pytest
from conftest import REPO, production_config, small_config
from lenspipe.config import independent_test_configs, load_schema, merge_config, validate_config
from lenspipe.config_reference import config_reference
from lenspipe.errors import ConfigError
from lenspipe.simulation.observation import GALLERY_OBSERVATIONS, SURVEYS, band_kwargs


def test_production_config_is_valid_and_plans_100k_lenses():
    config = validate_config(production_config())
    assert config["n_lenses"] == 100_000
    assert config["observation"]["survey"] == "LSST"


def test_defaults_fill_every_section_of_an_empty_config():
    config = validate_config({})
    assert config["image"]["num_pix"] == 64
    assert config["priors"]["source"]["offset_x"] == {"dist": "normal", "mean": 0.0, "sigma": 0.2}
    assert config["normalisation"]["split"] == {"train": 0.8, "validation": 0.1, "test": 0.1}


def test_a_partial_prior_section_keeps_the_defaults_of_its_siblings():
    config = validate_config(
        {"priors": {"lens": {"theta_E": {"dist": "uniform", "min": 1.0, "max": 1.5}}}}
    )
    assert config["priors"]["lens"]["theta_E"] == {"dist": "uniform", "min": 1.0, "max": 1.5}
    assert config["priors"]["lens"]["e1"]["dist"] == "truncated_normal"


BAD_INPUTS = {
    "mistyped field": (
        {"n_lense": 10},
        "unknown config field 'n_lense': did you mean 'n_lenses'?",
    ),
    "mistyped nested field": (
        {"image": {"numpix": 32}},
        "unknown config field 'image.numpix': did you mean 'num_pix'?",
    ),
    "wrong type of a section": ({"image": 64}, "config field 'image': 64 is not of type 'object'"),
    "wrong type": ({"n_lenses": "many"}, "n_lenses"),
    "non-positive lens count": ({"n_lenses": 0}, "n_lenses"),
    "non-positive chunk size": ({"chunk_size": 0}, "chunk_size"),
    "unknown distribution": (
        {"priors": {"lens": {"theta_E": {"dist": "gamma", "min": 1, "max": 2}}}},
        "priors.lens.theta_E.dist",
    ),
    "prior missing a field": (
        {"priors": {"lens": {"theta_E": {"dist": "uniform", "min": 1.0}}}},
        "priors.lens.theta_E: a uniform prior needs max",
    ),
    "prior min above max": (
        {"priors": {"lens": {"theta_E": {"dist": "uniform", "min": 2.0, "max": 1.0}}}},
        "priors.lens.theta_E: expected min < max",
    ),
    "truncated normal min above max": (
        {
            "priors": {
                "shear": {
                    "gamma1": {
                        "dist": "truncated_normal",
                        "mean": 0,
                        "sigma": 0.1,
                        "min": 0.2,
                        "max": -0.2,
                    }
                }
            }
        },
        "priors.shear.gamma1: expected min < max",
    ),
    "non-positive sigma": (
        {"priors": {"source": {"offset_x": {"dist": "normal", "mean": 0, "sigma": 0}}}},
        "priors.source.offset_x.sigma",
    ),
    "log-uniform through zero": (
        {"priors": {"source": {"R_sersic": {"dist": "log_uniform", "min": 0.0, "max": 1.0}}}},
        "priors.source.R_sersic.min",
    ),
    "unknown survey": ({"observation": {"survey": "SDSS"}}, "observation.survey"),
    "unknown band": ({"observation": {"survey": "LSST", "band": "q"}}, "observation.band"),
    "coadd years out of range": ({"observation": {"coadd_years": 40}}, "observation.coadd_years"),
    "custom survey missing values": (
        {"observation": {"survey": "custom", "overrides": {"pixel_scale": 0.1}}},
        "observation.overrides",
    ),
    "target not a parameter": (
        {"training": {"targets": ["redshift"]}},
        "training.targets: 'redshift'",
    ),
    "target with a fixed prior": (
        {
            "training": {"targets": ["lens_theta_E"]},
            "priors": {"lens": {"theta_E": {"dist": "fixed", "value": 1.2}}},
        },
        "training.targets: 'lens_theta_E' has a fixed prior",
    ),
    "target weight for a non-target": (
        {"training": {"target_weights": {"lens_gamma": 2.0}}},
        "training.target_weights.lens_gamma: not one of training.targets",
    ),
    "zero target weight": (
        {"training": {"target_weights": {"lens_theta_E": 0}}},
        "config field 'training.target_weights.lens_theta_E': 0 is less than or equal to",
    ),
    "negative target weight": (
        {"training": {"target_weights": {"lens_theta_E": -1.0}}},
        "training.target_weights.lens_theta_E",
    ),
    "target weights of a pair differing under augmentation": (
        {"training": {"target_weights": {"shear_gamma1": 2.0}}},
        "training.target_weights.shear_gamma1: with training.augment it must equal the "
        "weight of shear_gamma2",
    ),
    "target weights with the Gaussian NLL": (
        {"training": {"loss": "gaussian_nll", "target_weights": {"lens_theta_E": 2.0}}},
        "training.target_weights: weights apply to the MSE of the means",
    ),
    "split not adding up to 1": (
        {"normalisation": {"split": {"train": 0.8, "validation": 0.1, "test": 0.2}}},
        "normalisation.split: train + validation + test must add up to 1",
    ),
    "split leaving a subset empty": (
        {
            "n_lenses": 5,
            "normalisation": {"split": {"train": 0.8, "validation": 0.1, "test": 0.1}},
        },
        "normalisation.split.",
    ),
    "image too small for the network": ({"image": {"num_pix": 8}}, "image.num_pix"),
    "unknown band among several": (
        {"observation": {"bands": ["g", "q", "i"]}},
        "observation.bands: LSST rejects band='q'",
    ),
    "reference band not imaged": (
        {"observation": {"band": "i", "bands": ["g", "r"]}},
        "observation.bands: the reference band observation.band='i'",
    ),
    "no colour for an imaged band": (
        {"observation": {"survey": "DES", "bands": ["g", "i"]}, "colours": {"source": {"i": 0}}},
        "colours.source: no colour for band g",
    ),
    "band override of a band not imaged": (
        {"observation": {"band_overrides": {"g": {"seeing": 1.0}}}},
        "observation.band_overrides.g: g is not an imaged band",
    ),
    "pixel scale of one band": (
        {"observation": {"bands": ["g", "i"], "band_overrides": {"g": {"pixel_scale": 0.1}}}},
        "observation.band_overrides.g.pixel_scale",
    ),
    "mistyped band override": (
        {"observation": {"band_overrides": {"i": {"seing": 1.0}}}},
        "unknown config field 'observation.band_overrides.i.seing': did you mean 'seeing'?",
    ),
    "bands of different pixel scales": (
        {"observation": {"survey": "Euclid", "band": "VIS", "bands": ["VIS", "Y"]}},
        "observation.bands: the channels of an image share one pixel grid",
    ),
    "survey gallery band without a colour": (
        {"colours": {"source": {"i": 0.0}}},
        "colours.source: no colour for band g, r; give one number per band of the LSST survey",
    ),
    "image count cut without a quasar": (
        {"lensing_cut": {"min_images": 2}},
        "lensing_cut.min_images: counts the images of the lensed quasar",
    ),
    "unknown mass profile": ({"lens_system": {"mass": "NFW"}}, "lens_system.mass"),
    "source redshifts overlapping the lens": (
        {
            "lens_system": {"redshifts": True},
            "priors": {"source": {"z": {"dist": "uniform", "min": 0.5, "max": 2.0}}},
        },
        "priors.source.z: every source redshift must exceed every lens redshift",
    ),
    "quasar image column as a target": (
        {"lens_system": {"point_source": True}, "training": {"targets": ["point_source_x_1"]}},
        "training.targets: 'point_source_x_1' cannot be a target",
    ),
    "quasar column without a quasar": (
        {"training": {"targets": ["point_source_magnitude"]}},
        "training.targets: 'point_source_magnitude' is not a parameter",
    ),
    "non-positive cut threshold": (
        {"lensing_cut": {"min_arc_snr": 0}},
        "lensing_cut.min_arc_snr",
    ),
    "unknown loss": ({"training": {"loss": "mae"}}, "training.loss"),
    "augment not a switch": ({"training": {"augment": "yes"}}, "training.augment"),
    "augmented ellipticity without its partner": (
        {"training": {"targets": ["lens_theta_E", "lens_e1"]}},
        "training.targets: with training.augment the targets must include lens_e2 too",
    ),
    "unknown learning-rate schedule": (
        {"training": {"learning_rate_schedule": "step"}},
        "training.learning_rate_schedule",
    ),
    "no convolution in a block": (
        {"training": {"convs_per_block": 0}},
        "training.convs_per_block",
    ),
    "no lenses to fit": ({"baselines": {"fit": {"n_lenses": 0}}}, "baselines.fit.n_lenses"),
    "no fit starts": ({"baselines": {"fit": {"n_starts": 0}}}, "baselines.fit.n_starts"),
    "fractional fit starts": ({"baselines": {"fit": {"n_starts": 2.5}}}, "baselines.fit.n_starts"),
    "mistyped fit starts": (
        {"baselines": {"fit": {"n_start": 4}}},
        "unknown config field 'baselines.fit.n_start': did you mean 'n_starts'?",
    ),
    "negative chi2 tolerance": (
        {"baselines": {"fit": {"chi2_tolerance": -1}}},
        "baselines.fit.chi2_tolerance",
    ),
    "naive model without layers": (
        {"baselines": {"dense": {"dense_units": []}}},
        "baselines.dense.dense_units",
    ),
    # Issue 15: each of these passed the dry run and failed (or misbehaved) later.
    "lens count as a float": (
        {"n_lenses": 1000.0},
        "config field 'n_lenses': expected a whole number, got 1000.0",
    ),
    "epochs as a bool": ({"training": {"epochs": True}}, "config field 'training.epochs'"),
    "infinite prior bound": (
        {"priors": {"lens": {"theta_E": {"dist": "uniform", "min": 0.8, "max": float("inf")}}}},
        "config field 'priors.lens.theta_E.max': expected a finite number, got inf",
    ),
    "NaN pixel scale": (
        {"observation": {"overrides": {"pixel_scale": float("nan")}}},
        "config field 'observation.overrides.pixel_scale': expected a finite number",
    ),
    "run name climbing out of results": ({"run_name": ".."}, "config field 'run_name'"),
    "run name that is results itself": ({"run_name": "."}, "not starting with . or -"),
    "run name with a slash": ({"run_name": "a/b"}, "config field 'run_name'"),
    "huge image": ({"image": {"num_pix": 100000}}, "config field 'image.num_pix'"),
    "negative Einstein radius": (
        {"priors": {"lens": {"theta_E": {"dist": "uniform", "min": -0.5, "max": 1.0}}}},
        "priors.lens.theta_E: theta_E is an Einstein radius in arcsec, so its values must lie "
        "strictly between 0 and inf, but this uniform prior can draw values from -0.5 to 1",
    ),
    "Einstein radius from a normal that reaches below 0": (
        {"priors": {"lens": {"theta_E": {"dist": "normal", "mean": 0.3, "sigma": 0.2}}}},
        "priors.lens.theta_E: theta_E is an Einstein radius",
    ),
    "magnitude out of sane bounds": (
        {"priors": {"source": {"magnitude": {"dist": "uniform", "min": 20.0, "max": 90.0}}}},
        "priors.source.magnitude: magnitude is an apparent magnitude",
    ),
    "negative half-light radius": (
        {"priors": {"lens_light": {"R_sersic": {"dist": "uniform", "min": -1.0, "max": 1.0}}}},
        "priors.lens_light.R_sersic",
    ),
    **{
        f"min above max in the unused prior {component}.{name}": (
            {"priors": {component: {name: {"dist": "uniform", "min": high, "max": low}}}},
            f"priors.{component}.{name}: expected min < max",
        )
        for component, name, low, high in [
            ("lens", "gamma", 1.8, 2.2),
            ("lens", "z", 0.2, 0.8),
            ("source", "z", 1.0, 3.0),
            ("point_source", "magnitude", 20.0, 22.0),
        ]
    },
}


@pytest.mark.parametrize("changes, expected", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_raises_an_error_naming_the_field(changes, expected):
    config = merge_config({"n_lenses": 1000}, changes)
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    assert expected in str(error.value)


def test_prior_merged_over_another_dist_explains_the_merge():
    config = merge_config(
        production_config(), {"priors": {"lens": {"theta_E": {"dist": "fixed", "value": 1.2}}}}
    )
    with pytest.raises(ConfigError, match="--replace-workflow-config"):
        validate_config(config)


def test_custom_survey_with_every_value_is_valid():
    overrides = {
        "pixel_scale": 0.1,
        "exposure_time": 100.0,
        "num_exposures": 4,
        "magnitude_zero_point": 27.0,
        "sky_brightness": 21.0,
        "read_noise": 5.0,
        "ccd_gain": 1.0,
        "seeing": 0.5,
    }
    config = small_config(observation={"survey": "custom", "overrides": overrides})
    assert config["observation"]["overrides"] == overrides


def test_new_switches_default_to_the_plain_single_band_sie_system():
    config = validate_config({})
    assert config["observation"]["bands"] is None
    assert config["observation"]["psf"] == "gaussian"
    subhalos = config["lens_system"].pop("subhalos")
    assert subhalos["mean_count"] == 0
    assert config["lens_system"].pop("source_catalogue") is None
    assert config["lens_system"] == {
        "mass": "SIE",
        "point_source": False,
        "redshifts": False,
        "cosmology": {"H0": 70.0, "Om0": 0.3},
    }
    assert config["lensing_cut"]["min_source_magnification"] is None
    assert config["lensing_cut"]["min_arc_snr"] is None
    assert config["lensing_cut"]["min_images"] is None


def _campaign(**fields) -> dict:
    """An independent test campaign with the given fields (seed 8 unless given)."""
    return {"evaluation": {"independent_tests": [{"name": "shifted", "seed": 8, **fields}]}}


BAD_CAMPAIGNS = {
    "the run's seed": (
        _campaign(seed=7),
        "evaluation.independent_tests.0.seed: 7 is the run's own seed",
    ),
    "no seed": (
        {"evaluation": {"independent_tests": [{"name": "shifted"}]}},
        "'seed' is a required property",
    ),
    "a name twice": (
        {
            "evaluation": {
                "independent_tests": [{"name": "x", "seed": 8}, {"name": "x", "seed": 9}]
            }
        },
        "evaluation.independent_tests.1.name: 'x' is already the name",
    ),
    "a name that is no folder": (_campaign(name="a/b"), "evaluation.independent_tests.0.name"),
    "another image size": (
        _campaign(overrides={"image": {"num_pix": 64}}),
        "evaluation.independent_tests.0.overrides.image.num_pix: the model reads 32x32 images",
    ),
    "other bands": (
        _campaign(overrides={"observation": {"bands": ["g", "i"]}}),
        "evaluation.independent_tests.0.overrides.observation.bands:",
    ),
    "a survey without the run's band": (
        _campaign(overrides={"observation": {"survey": "Euclid", "band": "VIS"}}),
        "evaluation.independent_tests.0.overrides.observation.band:",
    ),
    "a bad prior": (
        _campaign(overrides={"priors": {"lens": {"theta_E": {"dist": "uniform", "min": 2}}}}),
        "evaluation.independent_tests.0.overrides ('shifted'): priors.lens.theta_E: a uniform "
        "prior needs max",
    ),
    "a bad observation value": (
        _campaign(overrides={"observation": {"overrides": {"seeing": -1}}}),
        "evaluation.independent_tests.0.overrides ('shifted'): config field "
        "'observation.overrides.seeing'",
    ),
    "a setting that is not the simulation's": (
        _campaign(overrides={"training": {"epochs": 3}}),
        "unknown config field 'evaluation.independent_tests.0.overrides.training'",
    ),
}


@pytest.mark.parametrize("changes, expected", BAD_CAMPAIGNS.values(), ids=BAD_CAMPAIGNS.keys())
def test_bad_independent_test_raises_an_error_naming_the_field(changes, expected):
    with pytest.raises(ConfigError) as error:
        small_config(**changes)
    assert expected in str(error.value)


def test_a_campaign_may_change_the_survey_when_it_has_the_runs_band():
    config = small_config(**_campaign(overrides={"observation": {"survey": "DES"}}))
    assert config["evaluation"]["independent_tests"][0]["n_lenses"] == 1000  # the default
    assert independent_test_configs(config)["shifted"]["observation"]["survey"] == "DES"


def test_the_configuration_reference_is_generated_from_the_current_schema():
    """config/README.md is what scripts/make_config_reference.py writes from the schema now."""
    reference = (REPO / "config" / "README.md").read_text()
    assert reference == config_reference(), "run scripts/make_config_reference.py"
    for field in ("`n_lenses`", "`priors.lens.theta_E`", "`training.learning_rate_schedule`"):
        assert field in reference


def test_a_prior_unbounded_in_form_is_accepted_when_it_cannot_draw_unphysical_values():
    # The simulation draws from uniform numbers in [2**-53, 1 - 2**-53]: a normal prior on
    # theta_E 8 sigma above 0 never draws a negative value.
    config = {"n_lenses": 10, "priors": {"lens": {"theta_E": {"dist": "normal"}}}}
    config["priors"]["lens"]["theta_E"].update(mean=1.0, sigma=0.1)
    assert validate_config(config)["priors"]["lens"]["theta_E"]["sigma"] == 0.1


def test_target_weights_of_a_pair_may_differ_without_augmentation():
    training = {"augment": False, "target_weights": {"lens_e1": 3.0, "lens_center_x": 0.5}}
    config = validate_config({"n_lenses": 1000, "training": training})
    assert config["training"]["target_weights"] == {"lens_e1": 3.0, "lens_center_x": 0.5}


def test_a_yaml_anchor_bomb_is_refused_in_a_bounded_message():
    import yaml
    from lenspipe.errors import MAX_MESSAGE

    lines = ["seed:", "  - &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for previous, name in zip("abcdef", "bcdefg"):
        lines.append(f"  - &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    bomb = yaml.safe_load("\n".join(lines))
    with pytest.raises(ConfigError) as error:
        validate_config(small_config(seed=bomb["seed"]))
    message = str(error.value)
    assert len(message) <= MAX_MESSAGE and "characters left out" in message
    assert message.startswith("config field 'seed': expected a whole number, got [['lol'")


@pytest.mark.parametrize("survey", SURVEYS)
def test_every_preset_of_the_one_survey_list_is_accepted_and_observes(survey):
    band = {"Euclid": "VIS", "HST": "WFC3_F160W", "Roman": "F158", "JWST": "F115W"}
    observation = {"survey": survey, "band": band.get(survey, "i")}
    config = small_config(observation=observation)
    (kwargs,) = band_kwargs(config["observation"])
    assert kwargs["pixel_scale"] > 0 and kwargs["seeing"] > 0


def test_the_schema_lists_the_presets_of_the_code():
    sections = load_schema()["properties"]
    assert sections["observation"]["properties"]["survey"]["enum"] == [*SURVEYS, "custom"]
    galleries = sections["evaluation"]["properties"]["survey_galleries"]
    assert galleries["items"]["enum"] == list(GALLERY_OBSERVATIONS) and set(
        galleries["default"]
    ) <= set(GALLERY_OBSERVATIONS)
    with pytest.raises(ConfigError, match="evaluation.survey_galleries"):
        validate_config(
            merge_config(production_config(), {"evaluation": {"survey_galleries": ["ZTF"]}})
        )
