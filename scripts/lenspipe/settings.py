"""The run's settings, typed and immutable, built once from a validated config.

``SimulationSettings.from_config`` takes a validated config, or the part of it that makes the
lenses (``simulation_settings``, what the rules pass as params); the simulation,
the consolidation and the likelihood fit take it, or the part of it they need, instead of the
raw dict. ``Settings`` adds the run's training targets. Every value derived from the config
(the bands, the image shape, the parameter columns, the parsed priors and their copula, whether
the lensing cut or the subhalos are on) is derived here, by the functions of this module, and
nowhere else; validation uses the same functions. ``Settings`` also holds the other sections
the rules read (the normalisation, the evaluation's extras, the fit baseline, the refinement and
the chunk jobs' saving), so the Snakemake driver reads its params from one validated, typed
object rather than from the config.
"""

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from lenspipe.simulation.bands import colour_offsets
from lenspipe.simulation.observation import band_kwargs
from lenspipe.simulation.parameters import (
    BASE_PARAMETERS,
    CUT_COLUMNS,
    SUBHALO_COLUMNS,
    image_columns,
    time_delay_columns,
)
from lenspipe.simulation.priors import GaussianCopula, Prior, gaussian_copula, parse_prior
from lenspipe.simulation.rendering import AdaptiveSettings, adaptive_settings
from lenspipe.simulation.source_catalogue import STAMP_COLUMNS

# The config fields that make the lenses: the rules' simulation params
# (``simulation_settings``) and ``SimulationSettings.as_config``.
SIMULATION_FIELDS = (
    "n_lenses",
    "chunk_size",
    "seed",
    "observation",
    "lens_system",
    "colours",
    "lensing_cut",
    "image",
    "priors",
)
CUT_THRESHOLDS = ("min_source_magnification", "min_arc_snr", "min_images")
INPUT_HASHES = "input_files_sha256"
"""The key of ``simulation_settings`` that holds the SHA-256 of each input file."""


def imaged_bands(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The imaged bands, in channel order: ``observation.bands``, else the one ``band``."""
    observation = config["observation"]
    return tuple(observation["bands"] or [observation["band"]])


def light_components(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The light components of the lens system: lens light, source and, if on, the quasar."""
    quasar = ("point_source",) if config["lens_system"]["point_source"] else ()
    return ("lens_light", "source", *quasar)


def cut_enabled(config: Mapping[str, Any]) -> bool:
    """True when ``lensing_cut`` sets a threshold."""
    return any(config["lensing_cut"][threshold] is not None for threshold in CUT_THRESHOLDS)


def subhalos_enabled(config: Mapping[str, Any]) -> bool:
    """Whether the config adds subhalos to the lens (``lens_system.subhalos.mean_count`` > 0)."""
    return config["lens_system"]["subhalos"]["mean_count"] > 0


def mass_parameters(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The parameters of the main deflector's mass profile: the SIE's, and the EPL's slope."""
    slope = ("gamma",) if config["lens_system"]["mass"] == "EPL_NUMBA" else ()
    return (*BASE_PARAMETERS["lens"], *slope)


def sampled_parameters(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(component, parameter) of every sampled column of ``config``, in column order: the
    default system's, then those the ``lens_system`` switches add (the EPL slope, the
    redshifts, the quasar magnitude)."""
    system = config["lens_system"]
    pairs = [(component, name) for component, names in BASE_PARAMETERS.items() for name in names]
    pairs += [("lens", name) for name in mass_parameters(config)[len(BASE_PARAMETERS["lens"]) :]]
    if system["redshifts"]:
        pairs += [("lens", "z"), ("source", "z")]
    if system["point_source"]:
        pairs.append(("point_source", "magnitude"))
    return pairs


def measured_columns(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Columns measured on each simulated lens rather than drawn from a prior."""
    system = config["lens_system"]
    columns = image_columns() if system["point_source"] else []
    if system["point_source"] and system["redshifts"]:
        columns += time_delay_columns()
    if cut_enabled(config):
        columns += CUT_COLUMNS
    if subhalos_enabled(config):
        columns += SUBHALO_COLUMNS
    if system["source_catalogue"] is not None:
        columns += STAMP_COLUMNS
    return tuple(columns)


def parameter_names(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Every column of the parameter table of ``config``, in order: sampled, then measured."""
    sampled = [f"{component}_{name}" for component, name in sampled_parameters(config)]
    return (*sampled, *measured_columns(config))


def parse_priors(config: Mapping[str, Any]) -> dict[str, Prior]:
    """The Prior of every sampled parameter column, in column order."""
    return {
        f"{component}_{name}": parse_prior(
            f"priors.{component}.{name}", config["priors"][component][name]
        )
        for component, name in sampled_parameters(config)
    }


def prior_copula(config: Mapping[str, Any], priors: Mapping[str, Prior]) -> GaussianCopula | None:
    """The Gaussian copula of ``priors.correlations`` over the sampled ``priors``."""
    fixed = {name for name, prior in priors.items() if prior.is_fixed}
    return gaussian_copula(config["priors"]["correlations"], list(priors), fixed)


def simulation_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config's ``SIMULATION_FIELDS``, without the adaptive thresholds of a uniform
    rendering (they render nothing differently, so runs made before they existed keep their
    settings and their chunks)."""
    fields = {field: config[field] for field in SIMULATION_FIELDS}
    if config["image"]["supersampling"] != "adaptive":
        fields["image"] = {
            key: value for key, value in config["image"].items() if key != "adaptive_supersampling"
        }
    return fields


def simulation_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a validated config that determines the simulated lenses and the store,
    with the SHA-256 of each input file the images are made from (a changed file makes other
    images, so it must make other settings)."""
    settings = simulation_fields(config)
    files = simulation_input_files(config)
    if files:
        settings[INPUT_HASHES] = {
            path: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in files
        }
    return settings


def simulation_input_files(config: Mapping[str, Any]) -> list[str]:
    """The files whose contents go into the images: PSF kernels and the source catalogue."""
    files = []
    if config["observation"]["psf"] == "file":
        files += sorted(config["observation"]["psf_files"].values())
    if config["lens_system"]["source_catalogue"] is not None:
        files.append(config["lens_system"]["source_catalogue"])
    return files


def _frozen(value: Any) -> Any:
    """``value`` with every dict made a read-only mapping, every list a tuple and every array
    read-only."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    return value


@dataclass(frozen=True)
class ImageSettings:
    """The pixel grid of every image: ``image`` and the observation's pixel scale."""

    num_pix: int
    supersampling: int | str
    """A uniform factor per pixel side, or ``adaptive``."""
    adaptive: AdaptiveSettings | None
    """The thresholds of adaptive supersampling; None for a uniform factor."""
    noise: bool
    pixel_scale: float
    """Arcsec per pixel, shared by every band."""
    shape: tuple[int, int, int]
    """(height, width, bands) of one image."""


@dataclass(frozen=True)
class ObservationSettings:
    """What the survey sees: the bands and lenstronomy's keywords of each."""

    bands: tuple[str, ...]
    """The imaged bands, in channel order."""
    reference_band: str
    """The band of the magnitude priors (``observation.band``)."""
    band_kwargs: tuple[Mapping[str, Any], ...]
    """lenstronomy's ``kwargs_single_band`` of each band (read-only: pass ``dict(...)``)."""
    colour_offsets: tuple[Mapping[str, float], ...]
    """Per band, each light component's magnitude offset from the reference band (one empty
    mapping for a single band)."""

    @property
    def reference_index(self) -> int:
        """The channel of the reference band."""
        return self.bands.index(self.reference_band)


@dataclass(frozen=True)
class SubhaloModel:
    """The subhalo population of ``lens_system.subhalos`` (see ``simulation.subhalos``)."""

    mean_count: float
    mass_range: tuple[float, float]
    mass_slope: float
    radius_in_einstein_radii: float
    concentration: float
    truncation_in_scale_radii: float


@dataclass(frozen=True)
class LensSystemSettings:
    """The physical model of each lens: ``lens_system``."""

    mass: str
    point_source: bool
    redshifts: bool
    cosmology: Mapping[str, Any]
    subhalos: SubhaloModel | None
    """None without subhalos."""
    source_catalogue: str | None
    mass_parameters: tuple[str, ...]
    """The mass profile's parameters (lenstronomy names), in column order."""

    @property
    def lens_model_list(self) -> list[str]:
        """lenstronomy's lens model list: the main deflector (SIE or EPL_NUMBA) and shear."""
        return [self.mass, "SHEAR"]

    @property
    def needs_cosmology(self) -> bool:
        """Whether lenses need distances: a quasar's time delays, or subhalo masses."""
        return (self.point_source and self.redshifts) or self.subhalos is not None


@dataclass(frozen=True)
class Columns:
    """The columns of the parameter table, in order: sampled, then measured."""

    sampled: tuple[str, ...]
    measured: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every column, in order."""
        return (*self.sampled, *self.measured)


@dataclass(frozen=True)
class PriorSettings:
    """The prior of every sampled column (in column order) and their correlations."""

    by_column: Mapping[str, Prior]
    copula: GaussianCopula | None


@dataclass(frozen=True)
class LensingCut:
    """``lensing_cut``: which lenses are kept, and how many draws a lens may take."""

    enabled: bool
    """True when a threshold is set."""
    min_source_magnification: float | None
    min_arc_snr: float | None
    min_images: int | None
    max_draws: int


@dataclass(frozen=True)
class SimulationSettings:
    """Everything that makes the lenses of a run; see the module docstring."""

    n_lenses: int
    chunk_size: int
    seed: int
    image: ImageSettings
    observation: ObservationSettings
    lens_system: LensSystemSettings
    columns: Columns
    priors: PriorSettings
    cut: LensingCut
    record_json: str
    """``simulation_settings`` of the config as JSON (``record``): its input files hashed once,
    when these settings were made."""

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], priors: Mapping[str, Prior] | None = None
    ) -> "SimulationSettings":
        """The settings of a validated config, or of its ``simulation_settings``; ``priors``
        are its ``parse_priors``, when the caller has parsed them already."""
        system, bands = config["lens_system"], imaged_bands(config)
        kwargs = band_kwargs(config["observation"])
        num_pix = config["image"]["num_pix"]
        subhalos = system["subhalos"] if subhalos_enabled(config) else None
        priors = dict(parse_priors(config) if priors is None else priors)
        return cls(
            n_lenses=config["n_lenses"],
            chunk_size=config["chunk_size"],
            seed=config["seed"],
            image=ImageSettings(
                num_pix=num_pix,
                supersampling=config["image"]["supersampling"],
                adaptive=adaptive_settings(config["image"]),
                noise=config["image"]["noise"],
                pixel_scale=kwargs[0]["pixel_scale"],
                shape=(num_pix, num_pix, len(bands)),
            ),
            observation=ObservationSettings(
                bands=bands,
                reference_band=config["observation"]["band"],
                band_kwargs=tuple(_frozen(band) for band in kwargs),
                colour_offsets=_frozen(
                    colour_offsets(
                        config["colours"],
                        config["observation"]["band"],
                        bands,
                        light_components(config),
                    )
                ),
            ),
            lens_system=LensSystemSettings(
                mass=system["mass"],
                point_source=system["point_source"],
                redshifts=system["redshifts"],
                cosmology=_frozen(system["cosmology"]),
                subhalos=(
                    None
                    if subhalos is None
                    else SubhaloModel(**{**subhalos, "mass_range": tuple(subhalos["mass_range"])})
                ),
                source_catalogue=system["source_catalogue"],
                mass_parameters=mass_parameters(config),
            ),
            columns=Columns(sampled=tuple(priors), measured=measured_columns(config)),
            priors=PriorSettings(MappingProxyType(priors), prior_copula(config, priors)),
            cut=LensingCut(enabled=cut_enabled(config), **config["lensing_cut"]),
            record_json=json.dumps(simulation_settings(config)),
        )

    def as_config(self) -> dict[str, Any]:
        """A fresh copy of the config's simulation fields, as a dict: the record without its
        input files' hashes."""
        fields = self.record()
        fields.pop(INPUT_HASHES, None)
        return fields

    def record(self) -> dict[str, Any]:
        """``simulation_settings`` of these settings: what the store and a chunk's work
        folder record, and what the rules pass as params. The input files are not read again:
        their hashes are those of when these settings were made."""
        return json.loads(self.record_json)


def _section(cls: type, section: Mapping[str, Any], **given: Any) -> Any:
    """The dataclass ``cls`` of a config section: each field not ``given`` read from the
    field of its name, made read-only."""
    names = [field.name for field in dataclasses.fields(cls) if field.name not in given]
    return cls(**{name: _frozen(section[name]) for name in names}, **given)


@dataclass(frozen=True)
class NormalisationSettings:
    """``normalisation``: the seeded split and the images' stretch and MinMax range."""

    split: Mapping[str, float]
    """The fraction of the lenses in each subset (train, validation, test)."""
    image_stretch: str
    asinh_softening: float
    image_range: str
    """One MinMax range for all bands (``global``) or one per band (``per_band``)."""


@dataclass(frozen=True)
class EvaluationSettings:
    """``evaluation``: the gallery, and what is tested and drawn beyond the test split."""

    gallery_size: int
    survey_galleries: tuple[str, ...]
    independent_tests: tuple[Mapping[str, Any], ...]
    learning_curve: tuple[int, ...]
    """The learning curve's training-set sizes, as given (empty: no curve)."""


@dataclass(frozen=True)
class FitSettings:
    """``baselines.fit``: the blind lenstronomy fit of the first test lenses."""

    n_lenses: int
    n_starts: int
    n_particles: int
    n_iterations: int
    polish_iterations: int
    chi2_tolerance: float


@dataclass(frozen=True)
class RefineSearch:
    """How a refinement searches (``refine`` in the config)."""

    confine_sigmas: float
    """Mass and shear are searched within the CNN's mean +- this many of its sigma."""
    source_grid: int
    """Points per side of the first step's grid of source centres."""
    max_steps: int
    """Most steps of one least-squares descent (each a Jacobian and a model evaluation)."""
    max_chi2_per_pixel: float
    """A fit is converged when its chi^2 per pixel is at most this."""
    n_restarts: int
    """Seeds of the fallback, each its own descent."""
    restart_sigmas: float
    """The fallback draws its seeds from the CNN's mean +- this many of its sigma."""

    @classmethod
    def from_config(cls, refine: Mapping[str, Any]) -> "RefineSearch":
        """The search of a validated config's ``refine`` section (its other fields ignored)."""
        return _section(cls, refine)


@dataclass(frozen=True)
class RefineSettings:
    """``refine``: which lenses are refined, in which jobs, and how each is searched."""

    n_lenses: int
    n_calibration: int
    chunk_size: int
    checkpoint_every: int
    cutouts: Mapping[str, str]
    """Files of images from outside the run, by name."""
    search: RefineSearch


@dataclass(frozen=True)
class ChunkJobSettings:
    """How a simulation chunk job saves its work, and ``testing``'s pause after each lens."""

    checkpoint_every: int
    seconds_per_lens: float


@dataclass(frozen=True)
class Settings:
    """A whole run's settings: the simulation's, the training targets and the sections the
    other stages read."""

    simulation: SimulationSettings
    targets: tuple[str, ...]
    normalisation: NormalisationSettings
    evaluation: EvaluationSettings
    fit: FitSettings
    refine: RefineSettings
    chunk_jobs: ChunkJobSettings

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], priors: Mapping[str, Prior] | None = None
    ) -> "Settings":
        """The settings of a validated config; ``priors`` as for
        ``SimulationSettings.from_config``."""
        refine = config["refine"]
        return cls(
            simulation=SimulationSettings.from_config(config, priors),
            targets=tuple(config["training"]["targets"]),
            normalisation=_section(NormalisationSettings, config["normalisation"]),
            evaluation=_section(EvaluationSettings, config["evaluation"]),
            fit=_section(FitSettings, config["baselines"]["fit"]),
            refine=_section(RefineSettings, refine, search=RefineSearch.from_config(refine)),
            chunk_jobs=ChunkJobSettings(
                checkpoint_every=config["checkpoint_every"],
                seconds_per_lens=config["testing"]["seconds_per_lens"],
            ),
        )
