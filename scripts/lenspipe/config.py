"""Validation of a run configuration: the JSON schema first, then relations between fields.

``validate_config`` fills the schema defaults into the config in place and raises ConfigError
with the dotted name of the first bad field. The Snakefile calls it before any job is planned,
so a bad config stops the run before anything is written.
"""

import copy
import difflib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from lenspipe.data.augment import with_partners
from lenspipe.data.split import split_counts
from lenspipe.errors import ConfigError
from lenspipe.settings import (
    Settings,
    imaged_bands,
    light_components,
    parameter_names,
    parse_priors,
    prior_copula,
    subhalos_enabled,
)
from lenspipe.simulation.observation import GALLERY_OBSERVATIONS, SURVEYS
from lenspipe.simulation.parameters import CUT_COLUMNS, image_columns, time_delay_columns
from lenspipe.simulation.priors import Prior, check_physical_range, parse_prior

# Package data: the installed package validates a config without the repository around it.
SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


def _extend_with_defaults(validator_class: type) -> type:
    """Return a validator class that also sets each property's schema default."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema) -> Iterator:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _strict_types(validator_class: type) -> type:
    """``validator_class`` whose ``integer`` is a whole int (not 1000.0, not a bool) and whose
    ``number`` is finite (YAML's .inf and .nan are refused)."""
    checker = validator_class.TYPE_CHECKER.redefine_many(
        {
            "integer": lambda _, value: isinstance(value, int) and not isinstance(value, bool),
            "number": lambda _, value: isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value),
        }
    )
    return jsonschema.validators.extend(validator_class, type_checker=checker)


_DefaultFillingValidator = _extend_with_defaults(_strict_types(jsonschema.Draft202012Validator))


def load_schema() -> dict[str, Any]:
    """Return the config JSON schema, with the survey presets it accepts filled in from the
    one list of each (``lenspipe.simulation.observation``)."""
    with SCHEMA_PATH.open() as handle:
        schema = yaml.safe_load(handle)
    sections = schema["properties"]
    sections["observation"]["properties"]["survey"]["enum"] = [*SURVEYS, "custom"]
    galleries = sections["evaluation"]["properties"]["survey_galleries"]
    galleries["items"] = {"enum": list(GALLERY_OBSERVATIONS)}
    return schema


def _field_name(path: Any) -> str:
    return ".".join(str(part) for part in path)


def _schema_error_message(error: jsonschema.ValidationError) -> str:
    """Say which field is wrong and what was expected; suggest the name a typo meant."""
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        section = _field_name(error.absolute_path)
        field = f"{section}.{unknown[0]}" if section else unknown[0]
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown config field '{field}': {hint}expected one of {', '.join(known)}"
    field = _field_name(error.absolute_path) or "<top level>"
    if error.validator == "type" and error.validator_value in ("integer", "number"):
        number = "a whole number" if error.validator_value == "integer" else "a finite number"
        return f"config field '{field}': expected {number}, got {error.instance!r}"
    description = error.schema.get("description")
    explained = (
        f" ({description})" if description and error.validator in ("pattern", "anyOf") else ""
    )
    return f"config field '{field}': {error.message}{explained}"


def merge_config(base: dict, changes: dict) -> dict:
    """A copy of ``base`` with ``changes`` merged in key by key, nested dicts included, as
    Snakemake merges a ``--configfile`` into the Snakefile's ``configfile``."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults into ``config`` in place, check it, and return it.

    Raises ConfigError naming the field and what was expected.
    """
    validated_settings(config)
    return config


def validated_settings(config: dict[str, Any]) -> Settings:
    """Fill defaults into ``config`` in place, check it, and return its typed settings.

    Raises ConfigError naming the field and what was expected.
    """
    validator = _DefaultFillingValidator(load_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(_schema_error_message(error))
    _check_every_prior(config)
    priors = parse_priors(config)
    prior_copula(config, priors)
    _check_targets(config, priors)
    _check_augmented_targets(config)
    _check_target_weights(config)
    _check_split(config)
    _check_learning_curve(config)
    _check_image_fits_network(config)
    _check_observation(config)
    _check_colours(config)
    _check_redshifts(priors)
    _check_cut(config)
    _check_subhalos(config)
    _check_source_catalogue(config)
    independent_test_configs(config)
    settings = Settings.from_config(config, priors)
    _check_cutouts(config, settings.simulation.image.shape)
    return settings


def _check_cutouts(config: dict[str, Any], image_shape: tuple[int, int, int]) -> None:
    """Each set of ``refine.cutouts`` is a file of images of the run's shape (its header
    only: the pixels are checked by the job that reads them)."""
    from lenspipe.evaluation.image_files import image_count

    for name, path in config["refine"]["cutouts"].items():
        try:
            image_count(path, image_shape)
        except ValueError as error:
            raise ConfigError(f"refine.cutouts.{name}: {error}") from None


def _check_source_catalogue(config: dict[str, Any]) -> None:
    from lenspipe.simulation.source_catalogue import read_catalogue

    if config["lens_system"]["source_catalogue"] is not None:
        read_catalogue(config["lens_system"]["source_catalogue"])


def _check_subhalos(config: dict[str, Any]) -> None:
    system = config["lens_system"]
    subhalos = system["subhalos"]
    if subhalos["mean_count"] == 0:
        return
    low, high = subhalos["mass_range"]
    if low >= high:
        raise ConfigError(
            f"lens_system.subhalos.mass_range: [{low:g}, {high:g}]; expected the smallest "
            "mass first, below the largest"
        )
    if not system["redshifts"]:
        raise ConfigError(
            "lens_system.subhalos: subhalo masses become angles at each lens's redshifts; "
            "set lens_system.redshifts: true (priors.lens.z and priors.source.z)"
        )
    if system["point_source"]:
        raise ConfigError(
            "lens_system.subhalos: subhalos with a lensed quasar are not supported yet; set "
            "lens_system.point_source: false or subhalos.mean_count: 0"
        )


# Training settings that decide where a model trains, not what it learns: kept out of the
# rules' params, so that changing them does not retrain (Snakemake reruns a job whose params
# changed).
DEVICE_SETTINGS = ("allow_cpu_fallback",)


def model_training_settings(config: dict[str, Any]) -> dict[str, Any]:
    """``config["training"]`` without the device settings (DEVICE_SETTINGS)."""
    return {
        name: value for name, value in config["training"].items() if name not in DEVICE_SETTINGS
    }


def realism_switches(config: dict[str, Any]) -> list[str]:
    """The switches that change what the images are made of, among "psf" (pixel kernels),
    "sources" (catalogue galaxies) and "subhalos"."""
    on = {
        "psf": config["observation"]["psf"] == "file",
        "sources": config["lens_system"]["source_catalogue"] is not None,
        "subhalos": subhalos_enabled(config),
    }
    return [name for name, enabled in on.items() if enabled]


def independent_test_configs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The config of each independent test campaign of a validated ``config``, by name.

    A campaign's config is the run's with the campaign's ``overrides`` applied (a prior given
    there replaces the run's prior whole), its own ``n_lenses`` and ``seed``, and no
    campaigns of its own; ``lenspipe.settings.simulation_settings`` of it is what the run's simulation code
    receives. Raises ConfigError naming the campaign's field: a repeated name, the run's own
    seed, an override that the config checks refuse, or images of another size or bands.
    """
    campaigns: dict[str, dict[str, Any]] = {}
    for index, campaign in enumerate(config["evaluation"]["independent_tests"]):
        field = f"evaluation.independent_tests.{index}"
        if campaign["name"] in campaigns:
            raise ConfigError(
                f"{field}.name: {campaign['name']!r} is already the name of another "
                "campaign; each campaign needs its own name (and folder)"
            )
        if campaign["seed"] == config["seed"]:
            raise ConfigError(
                f"{field}.seed: {campaign['seed']} is the run's own seed, so the campaign "
                "would replay the run's lenses, training lenses included; choose another seed"
            )
        campaigns[campaign["name"]] = _independent_test_config(config, campaign, field)
    return campaigns


def _independent_test_config(
    config: dict[str, Any], campaign: dict[str, Any], field: str
) -> dict[str, Any]:
    """The run's config with the campaign's overrides, validated; see independent_test_configs."""
    changed = _override(config, campaign["overrides"])
    changed["evaluation"] = {**changed["evaluation"], "independent_tests": []}
    try:
        validate_config(changed)
    except ConfigError as error:
        raise ConfigError(f"{field}.overrides ({campaign['name']!r}): {error}") from None
    _check_same_images(config, changed, campaign["overrides"], field)
    changed["n_lenses"], changed["seed"] = campaign["n_lenses"], campaign["seed"]
    return changed


def _override(base: dict, changes: dict) -> dict:
    """``merge_config``, except that a prior (a mapping with a ``dist``) replaces the old one
    whole instead of keeping its other keys."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and "dist" not in value and isinstance(merged.get(key), dict):
            merged[key] = _override(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_same_images(
    config: dict[str, Any], changed: dict[str, Any], overrides: dict[str, Any], field: str
) -> None:
    """The model reads images of the run's size and bands only, channel by channel."""
    num_pix, changed_num_pix = config["image"]["num_pix"], changed["image"]["num_pix"]
    if changed_num_pix != num_pix:
        raise ConfigError(
            f"{field}.overrides.image.num_pix: the model reads {num_pix}x{num_pix} images, "
            f"not {changed_num_pix}x{changed_num_pix}; a campaign keeps the run's image size"
        )
    if imaged_bands(changed) != imaged_bands(config):
        observation = overrides.get("observation", {})
        key = next((key for key in ("bands", "band") if key in observation), "survey")
        raise ConfigError(
            f"{field}.overrides.observation.{key}: the campaign would image bands "
            f"{list(imaged_bands(changed))}, but the model learnt channels "
            f"{list(imaged_bands(config))}; a campaign "
            "images the run's bands in the run's order (another survey must have them too)"
        )


def _check_every_prior(config: dict[str, Any]) -> None:
    """Every prior in the config, used by this run or not, is well formed and stays within
    its parameter's physical range (``lenspipe.simulation.priors.PHYSICAL_RANGES``)."""
    for component, entries in config["priors"].items():
        if component == "correlations":
            continue
        for name, spec in entries.items():
            field = f"priors.{component}.{name}"
            check_physical_range(field, name, parse_prior(field, spec))


def _check_targets(config: dict[str, Any], priors: dict[str, Prior]) -> None:
    names = parameter_names(config)
    unlearnable = {*image_columns(), *time_delay_columns(), CUT_COLUMNS[-1]}
    for target in config["training"]["targets"]:
        if target in unlearnable:
            raise ConfigError(
                f"training.targets: {target!r} cannot be a target: a quasar's image columns "
                "and time delays are NaN where it has fewer images, and rejected_draws is "
                "bookkeeping"
            )
        if target not in names:
            raise ConfigError(
                f"training.targets: {target!r} is not a parameter; expected one of "
                f"{', '.join(names)}"
            )
        if target in priors and priors[target].is_fixed:
            raise ConfigError(
                f"training.targets: {target!r} has a fixed prior, so there is nothing to "
                "predict; give it a sampled prior or remove it from the targets"
            )


def _check_augmented_targets(config: dict[str, Any]) -> None:
    """With augmentation, each position, ellipticity or shear target needs its partner among
    the targets: the prediction averages over flips and rotations, which mix the two."""
    targets = config["training"]["targets"]
    missing = with_partners(targets)[len(targets) :]
    if config["training"]["augment"] and missing:
        raise ConfigError(
            f"training.targets: with training.augment the targets must include "
            f"{', '.join(missing)} too: a flip or rotation mixes each pair of components, and "
            "the prediction averages over them; add them or set training.augment: false"
        )


def _check_target_weights(config: dict[str, Any]) -> None:
    """Weights name targets, weight a loss that has an MSE of the means, and weigh the two
    components of a pair alike where augmentation mixes them."""
    training = config["training"]
    weights, targets = training["target_weights"], training["targets"]
    if weights and training["loss"] == "gaussian_nll":
        raise ConfigError(
            "training.target_weights: weights apply to the MSE of the means, which "
            "training.loss gaussian_nll does not have; use mse_nll or mse, or remove them"
        )
    for name in weights:
        if name not in targets:
            raise ConfigError(
                f"training.target_weights.{name}: not one of training.targets "
                f"({', '.join(targets)})"
            )
    if not training["augment"]:
        return
    for name in targets:
        partner = with_partners([name])[1:]
        if partner and weights.get(name, 1) != weights.get(partner[0], 1):
            raise ConfigError(
                f"training.target_weights.{name}: with training.augment it must equal the "
                f"weight of {partner[0]} ({weights.get(partner[0], 1)}): a flip or rotation "
                "mixes the two components"
            )


def _check_split(config: dict[str, Any]) -> None:
    split = config["normalisation"]["split"]
    total = split["train"] + split["validation"] + split["test"]
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ConfigError(
            f"normalisation.split: train + validation + test must add up to 1, got {total:g}"
        )
    for subset, count in split_counts(config["n_lenses"], split).items():
        if count < 1:
            raise ConfigError(
                f"normalisation.split.{subset}: a fraction of {split[subset]} of n_lenses="
                f"{config['n_lenses']} leaves no lens in the {subset} subset"
            )


def training_subset_size(config: dict[str, Any]) -> int:
    """Lenses in the run's training subset, counted as ``lenspipe.data.split`` counts them."""
    return split_counts(config["n_lenses"], config["normalisation"]["split"])["train"]


def learning_curve_sizes(config: dict[str, Any]) -> list[int]:
    """The training-set sizes of ``evaluation.learning_curve`` that get a model of their own,
    smallest first: all but the full training subset, which is the train rule's model."""
    full = training_subset_size(config)
    return sorted(size for size in config["evaluation"]["learning_curve"] if size < full)


def _check_learning_curve(config: dict[str, Any]) -> None:
    """Each learning-curve size fills at least one batch and fits in the training subset."""
    batch_size = config["training"]["batch_size"]
    full = training_subset_size(config)
    for index, size in enumerate(config["evaluation"]["learning_curve"]):
        field = f"evaluation.learning_curve.{index}"
        if size < batch_size:
            raise ConfigError(
                f"{field}: {size} training lenses are fewer than one batch "
                f"(training.batch_size={batch_size}); expected at least {batch_size}"
            )
        if size > full:
            raise ConfigError(
                f"{field}: {size} training lenses, but the training subset has {full} "
                f"(n_lenses={config['n_lenses']} times normalisation.split.train="
                f"{config['normalisation']['split']['train']}); expected at most {full}"
            )


def _check_image_fits_network(config: dict[str, Any]) -> None:
    blocks = len(config["training"]["conv_filters"])
    num_pix = config["image"]["num_pix"]
    if num_pix < 2**blocks:
        raise ConfigError(
            f"image.num_pix: {num_pix} pixels is too small for {blocks} convolution blocks "
            f"(training.conv_filters), each of which halves the image; expected at least "
            f"{2**blocks}"
        )


def _check_observation(config: dict[str, Any]) -> None:
    from lenspipe.simulation.observation import band_kwargs

    observation = config["observation"]
    if observation["bands"] is not None and observation["band"] not in observation["bands"]:
        raise ConfigError(
            f"observation.bands: the reference band observation.band={observation['band']!r} "
            f"must be one of the imaged bands {observation['bands']}"
        )
    band_kwargs(observation)


def _check_colours(config: dict[str, Any]) -> None:
    """Every light component needs a colour in every band of a multi-band image: the run's
    own, and those of the survey galleries."""
    needs = [(imaged_bands(config), "imaged band")] + [
        (GALLERY_OBSERVATIONS[survey]["bands"], f"band of the {survey} survey gallery")
        for survey in config["evaluation"]["survey_galleries"]
        if GALLERY_OBSERVATIONS[survey]["bands"]
    ]
    for imaged, what in needs:
        if len(imaged) == 1:
            continue
        for component in light_components(config):
            missing = [band for band in imaged if band not in config["colours"][component]]
            if missing:
                raise ConfigError(
                    f"colours.{component}: no colour for band {', '.join(missing)}; give one "
                    f"number per {what} ({', '.join(imaged)})"
                )


def _check_cut(config: dict[str, Any]) -> None:
    if (
        config["lensing_cut"]["min_images"] is not None
        and not config["lens_system"]["point_source"]
    ):
        raise ConfigError(
            "lensing_cut.min_images: counts the images of the lensed quasar, so it needs "
            "lens_system.point_source: true"
        )


def _check_redshifts(priors: dict[str, Prior]) -> None:
    if "lens_z" not in priors:
        return
    _, lens_highest = priors["lens_z"].support()
    source_lowest, _ = priors["source_z"].support()
    if not source_lowest > lens_highest:
        raise ConfigError(
            f"priors.source.z: every source redshift must exceed every lens redshift; the "
            f"source prior reaches down to {source_lowest} and the lens prior up to "
            f"{lens_highest}"
        )
