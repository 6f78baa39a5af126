"""The classical baseline: a lenstronomy maximum-likelihood fit of one lens image.

The fit knows everything the simulation knew except the lens: the model family (the mass
profile of ``lens_system.mass`` with external shear, an elliptical Sersic lens light sharing
the lens centre, an elliptical Sersic source), the PSF, the pixel grid and the noise model
(background and Poisson noise, through lenstronomy's likelihood). Light amplitudes are solved
linearly by lenstronomy at every step. It fits the reference band (``observation.band``).

The likelihood of these images is a needle in a haystack: the lensed arcs are bright, and
moving theta_E by 0.01 arcsec costs of the order of 10^5 in chi^2. So a fit makes several
starts, each from its own draw of the priors (seeded per lens and start, stream
``seeding.FIT``, never the truth) and keeps the one of lowest chi^2. A start searches within
the priors' ranges (a normal prior: mean +- 4 sigma) with lenstronomy's ``FittingSequence``:
a particle swarm (PSO) over the whole range finds a basin, then BFGS (SciPy, through the
sequence's ``SIMPLEX`` step) descends it to the bottom, which a swarm alone does not reach.

chi^2 here is -2 ln L of lenstronomy's image likelihood: the sum over the image's pixels of
(data - model)^2 / variance, the variance from the background and the model's Poisson noise.

Images rendered with adaptive supersampling (``image.supersampling: adaptive``) are fitted with
lenstronomy's own adaptive numerics: the pixels where the data's curvature says a pixel-centre
model misses the pixel mean by more than ``REFINE_THRESHOLD`` sigma of the noise (and their
neighbours) are rendered on a ``FIT_SUPERSAMPLING`` x ``FIT_SUPERSAMPLING`` grid, the others at
their centre. The mask comes from the data, never the truth. lenstronomy refines only with a
pixel PSF kernel, so a Gaussian PSF is given to the fit as its pixel kernel (which differs from
lenstronomy's Gaussian convolution by a chi^2 per pixel of about 0.003). On 20 lenses of the
local default this model is within a chi^2 per pixel of 0.21 (median; at most 2.5) of the
adaptively rendered truth, against 20 for the pixel-centre model, at 1.4 to 2.4 times its
cost per fit. The model error left in the cusp pixels is why a fit is judged against the
truth polished by BFGS (``polished_chi2``), not against the truth's own chi^2.

The shear is fitted about the origin (``ra_0 = dec_0 = 0``): the simulation puts it at the
lens centre, which differs only by a constant deflection that the source position absorbs
(``fit_kwargs`` and ``fit_columns`` convert between the two).
"""

import contextlib
import io
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from lenspipe import seeding
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.parameters import (
    BASE_PARAMETERS,
    LENS_LIGHT_MODEL_LIST,
    SOURCE_MODEL_LIST,
    lenstronomy_kwargs,
)
from lenspipe.simulation.priors import Prior
from lenspipe.simulation.rendering import (
    AdaptiveImageModel,
    centre_error,
    kwargs_numerics,
    pixels_to_refine,
)
from scipy.optimize import OptimizeWarning

if TYPE_CHECKING:
    from lenstronomy.ImSim.image_linear_solve import ImageLinearFit
    from lenstronomy.Workflow.fitting_sequence import FittingSequence

# The lens centre is shared with the lens light; the light's magnitude is solved linearly.
_CENTRE = ("center_x", "center_y")
SERSIC_SHAPE = tuple(name for name in BASE_PARAMETERS["lens_light"] if name != "magnitude")

FIT_SUPERSAMPLING = 8
"""Supersampling factor of the pixels the fit of an adaptively rendered image refines."""
REFINE_THRESHOLD = 3.0
"""The fit refines pixels whose centre may miss their mean by this many sigma of the noise."""


@dataclass(frozen=True)
class Search:
    """How hard a fit searches (``baselines.fit``): starts, swarm size, BFGS iterations."""

    n_starts: int
    n_particles: int
    n_iterations: int
    polish_iterations: int


@dataclass(frozen=True)
class StartResult:
    """One start of one lens's fit."""

    best_fit: dict[str, list[dict[str, float]]]
    """lenstronomy's keywords of the start's best fit."""
    chi2: float
    """-2 ln L of that fit."""
    seconds: float


@dataclass(frozen=True)
class FitResult:
    """The best start of one lens's fit."""

    parameters: dict[str, float]
    """Fitted parameter columns (magnitudes and redshifts are not fitted)."""
    chi2: float
    """-2 ln L of the best fit."""
    seconds: float
    """Wall-time of all the starts, one after another."""
    n_starts: int


def best_start(starts: Sequence[StartResult]) -> FitResult:
    """A lens's fit from its starts: the one of lowest chi^2 (the first of equals)."""
    best = min(starts, key=lambda start: start.chi2)
    seconds = sum(start.seconds for start in starts)
    return FitResult(fit_columns(best.best_fit), best.chi2, seconds, len(starts))


def search_bounds(prior: Prior) -> tuple[float, float]:
    """Search range of one parameter: the prior's support, a normal one cut at ±4 sigma."""
    if prior.dist == "normal":
        return prior.mean - 4 * prior.sigma, prior.mean + 4 * prior.sigma
    return prior.support()


class LensFitter:
    """Fits lenses of one run's settings: one lenstronomy data, PSF and model set-up."""

    def __init__(self, settings: SimulationSettings):
        from lenstronomy.SimulationAPI.sim_api import SimAPI

        if settings.lens_system.point_source:
            raise ValueError("the maximum-likelihood fit does not model a lensed quasar")
        self._seed = settings.seed
        self._band = settings.observation.reference_index
        self._priors = settings.priors.by_column
        self._mass_parameters = settings.lens_system.mass_parameters
        self._kwargs_model = {
            "lens_model_list": settings.lens_system.lens_model_list,
            "lens_light_model_list": LENS_LIGHT_MODEL_LIST,
            "source_light_model_list": SOURCE_MODEL_LIST,
        }
        sim = SimAPI(
            num_pix=settings.image.num_pix,
            kwargs_single_band=dict(settings.observation.band_kwargs[self._band]),
            kwargs_model=self._kwargs_model,
        )
        self._kwargs_data = sim.kwargs_data
        self._adaptive = settings.image.adaptive is not None
        self._kwargs_psf = (
            _pixel_psf(sim.kwargs_psf, sim.data_class.pixel_width)
            if self._adaptive
            else sim.kwargs_psf
        )
        self._estimate_noise = sim.estimate_noise
        self._kwargs_numerics = kwargs_numerics(settings.image.supersampling)
        # The simulation's own renderer, for the pixels it refines (``rendered_pixels``).
        self._renderer = (
            AdaptiveImageModel(
                sim.image_model_class({"supersampling_factor": 1}),
                sim.estimate_noise,
                settings.image.adaptive,
            )
            if self._adaptive
            else None
        )

    def start(self, lens_index: int, start: int) -> dict[str, float]:
        """The prior draw start ``start`` of lens ``lens_index`` begins at (column -> value)."""
        rng = seeding.stream(self._seed, seeding.FIT, lens_index, start)
        return {
            name: float(prior.from_unit(rng.uniform(0.01, 0.99)))
            for name, prior in self._priors.items()
        }

    def _component(self, prefix: str, names: tuple[str, ...], start: Mapping[str, float]):
        """init, sigma, lower, upper of the columns ``prefix + name`` (lenstronomy names)."""
        init, sigma, lower, upper = {}, {}, {}, {}
        for name in names:
            low, high = search_bounds(self._priors[f"{prefix}_{name}"])
            init[name] = float(np.clip(start[f"{prefix}_{name}"], low, high))
            sigma[name], lower[name], upper[name] = (high - low) / 2, low, high
        return init, sigma, lower, upper

    def kwargs_params(self, start: Mapping[str, float]) -> dict[str, list]:
        """lenstronomy's kwargs_params: start, spread, fixed values and bounds per component."""
        mass_names = tuple(name for name in self._mass_parameters if name not in _CENTRE)
        mass = self._component("lens", mass_names, start)
        shear = self._component("shear", ("gamma1", "gamma2"), start)
        light = self._component("lens_light", SERSIC_SHAPE, start)
        # The lens centre is sampled as the lens light's and shared (joint_lens_with_light).
        centre = self._component("lens", _CENTRE, start)
        for part in range(4):
            light[part].update(centre[part])
        source = self._component("source", SERSIC_SHAPE, start)
        # The source centre: the lens centre plus the offset, within their joint range.
        for axis, offset in (("x", "offset_x"), ("y", "offset_y")):
            low_c, high_c = search_bounds(self._priors[f"lens_center_{axis}"])
            low_o, high_o = search_bounds(self._priors[f"source_{offset}"])
            name = f"center_{axis}"
            source[0][name] = start[f"lens_center_{axis}"] + start[f"source_{offset}"]
            source[1][name] = (high_c + high_o - low_c - low_o) / 2
            source[2][name], source[3][name] = low_c + low_o, high_c + high_o
        fixed_shear = {"ra_0": 0.0, "dec_0": 0.0}
        return {
            "lens_model": [
                [mass[0], shear[0]],
                [mass[1], shear[1]],
                [{}, fixed_shear],
                [mass[2], shear[2]],
                [mass[3], shear[3]],
            ],
            "lens_light_model": [[light[0]], [light[1]], [{}], [light[2]], [light[3]]],
            "source_model": [[source[0]], [source[1]], [{}], [source[2]], [source[3]]],
        }

    def _sequence(
        self, image: np.ndarray, start: Mapping[str, float], exact: bool = False
    ) -> "FittingSequence":
        """lenstronomy's FittingSequence of one image (H, W, bands), starting at ``start``;
        ``exact`` starts exactly at those parameters (the shear about the origin made up for
        by the source position, as ``fit_kwargs``)."""
        from lenstronomy.Workflow.fitting_sequence import FittingSequence

        data = np.asarray(image[..., self._band], float)
        kwargs_data = dict(self._kwargs_data, image_data=data)
        data_joint = {
            "multi_band_list": [[kwargs_data, self._kwargs_psf, self.kwargs_numerics(data)]],
            "multi_band_type": "single-band",
        }
        constraints = {"joint_lens_with_light": [[0, 0, ["center_x", "center_y"]]]}
        kwargs_params = self.kwargs_params(start)
        if exact:
            kwargs = fit_kwargs(start)
            for component, key in (
                ("lens_model", "kwargs_lens"),
                ("lens_light_model", "kwargs_lens_light"),
                ("source_model", "kwargs_source"),
            ):
                for init, values in zip(kwargs_params[component][0], kwargs[key]):
                    init.update({name: values[name] for name in init})
        return FittingSequence(
            data_joint,
            self._kwargs_model,
            constraints,
            {"check_bounds": True},
            kwargs_params,
            verbose=False,
        )

    @property
    def adaptive(self) -> bool:
        """Whether the run's images are rendered with adaptive supersampling."""
        return self._adaptive

    def image_fit(
        self,
        image: np.ndarray,
        supersampled: np.ndarray | None = None,
        factor: int = FIT_SUPERSAMPLING,
    ) -> "ImageLinearFit":
        """lenstronomy's image model of one image (H, W, bands) under this fit's data, PSF,
        model and numerics, with light amplitudes solved linearly (``image_linear_solve``).
        Under adaptive rendering the 2-D mask ``supersampled`` (by default the pixels the
        data's curvature flags, ``kwargs_numerics``) names the pixels supersampled ``factor``
        times per side."""
        from lenstronomy.Data.imaging_data import ImageData
        from lenstronomy.Data.psf import PSF
        from lenstronomy.ImSim.image_linear_solve import ImageLinearFit
        from lenstronomy.LensModel.lens_model import LensModel
        from lenstronomy.LightModel.light_model import LightModel

        data = np.asarray(image[..., self._band], float)
        numerics = self.kwargs_numerics(data)
        if self._adaptive and supersampled is not None:
            numerics = dict(
                numerics, supersampled_indexes=supersampled, supersampling_factor=factor
            )
        return ImageLinearFit(
            ImageData(**dict(self._kwargs_data, image_data=data)),
            PSF(**self._kwargs_psf),
            LensModel(self._kwargs_model["lens_model_list"]),
            LightModel(self._kwargs_model["source_light_model_list"]),
            LightModel(self._kwargs_model["lens_light_model_list"]),
            kwargs_numerics=numerics,
        )

    def rendered_pixels(self, kwargs: Mapping[str, list[dict[str, float]]]) -> np.ndarray:
        """2-D mask of the pixels the simulation's adaptive rendering refines for the lens of
        lenstronomy keywords ``kwargs`` (``kwargs_lens``, ``kwargs_source`` and
        ``kwargs_lens_light``, amplitudes included); None for a uniform factor."""
        if self._renderer is None:
            return None
        return self._renderer.refined_pixels(
            kwargs["kwargs_lens"], kwargs["kwargs_source"], kwargs["kwargs_lens_light"]
        )

    def kwargs_numerics(self, data: np.ndarray) -> dict:
        """lenstronomy's numerics for the fit of the 2-D image ``data``: the run's uniform
        supersampling, or under adaptive rendering the pixels the data's curvature flags
        refined ``FIT_SUPERSAMPLING`` times."""
        if not self._adaptive:
            return self._kwargs_numerics
        sigma = self._estimate_noise(np.clip(data, 0, None))
        return {
            "supersampling_factor": FIT_SUPERSAMPLING,
            "compute_mode": "adaptive",
            "supersampled_indexes": pixels_to_refine(centre_error(data), sigma, REFINE_THRESHOLD),
            "supersampling_convolution": False,
        }

    def fit_start(
        self, image: np.ndarray, lens_index: int, start: int, search: Search
    ) -> StartResult:
        """One start: a swarm over the prior range from prior draw ``start``, then BFGS."""
        started = time.perf_counter()
        sequence = self._sequence(image, self.start(lens_index, start))
        # lenstronomy's swarm draws from NumPy's global random state: seed it per lens and
        # start, so a fit is repeatable and does not depend on which lenses ran before it.
        np.random.seed(
            seeding.stream(self._seed, seeding.FIT, lens_index, start, 1).integers(2**32)
        )
        swarm = {
            "sigma_scale": 1.0,
            "n_particles": search.n_particles,
            "n_iterations": search.n_iterations,
        }
        with _quiet_search():
            sequence.fit_sequence([["PSO", swarm], ["SIMPLEX", _polish(search)]])
        chi2 = -2 * sequence.best_fit_likelihood()
        return StartResult(sequence.best_fit(), chi2, time.perf_counter() - started)

    def fit(self, image: np.ndarray, lens_index: int, search: Search) -> FitResult:
        """Fit one image (H, W, bands) from ``search.n_starts`` starts; keep the best."""
        starts = [self.fit_start(image, lens_index, k, search) for k in range(search.n_starts)]
        return best_start(starts)

    def polished_chi2(
        self, image: np.ndarray, values: Mapping[str, float], search: Search
    ) -> float:
        """chi^2 at the bottom of the basin of ``values`` (e.g. the truth): BFGS from there, as
        a fit's polish. What a fit that found the truth's basin reaches; below ``chi2`` at
        ``values`` by about the number of free parameters where the model renders the
        image exactly, and by far more where it does not (adaptive images)."""
        sequence = self._sequence(image, values, exact=True)
        with _quiet_search():
            sequence.fit_sequence([["SIMPLEX", _polish(search)]])
        return min(-2 * sequence.best_fit_likelihood(), self.chi2(image, values))

    def chi2(self, image: np.ndarray, values: Mapping[str, float]) -> float:
        """chi^2 (-2 ln L) of one image at the parameter columns ``values`` (e.g. the truth).

        The same likelihood as the fit's, light amplitudes solved linearly, but with no
        penalty outside the search range."""
        sequence = self._sequence(image, values)
        params, likelihood = sequence.param_class, sequence.likelihood_class
        kwargs = params.args2kwargs(params.kwargs2args(**fit_kwargs(values)))
        with quiet_lenstronomy():
            return -2 * likelihood.log_likelihood(kwargs)


def _polish(search: Search) -> dict[str, Any]:
    """The settings of lenstronomy's SIMPLEX step that polishes a fit with BFGS."""
    return {"n_iterations": search.polish_iterations, "method": "BFGS"}


@contextlib.contextmanager
def _quiet_search():
    """A search's output silenced: lenstronomy's SIMPLEX step prints its progress whatever its
    verbosity, and SciPy warns when BFGS stops at its iteration limit or at the precision of
    the chi^2 (the chi^2 it reached is the record that counts)."""
    with contextlib.redirect_stdout(io.StringIO()), quiet_lenstronomy():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", OptimizeWarning)
        yield


@contextlib.contextmanager
def quiet_lenstronomy():
    """Silence NumPy 2's deprecation warning about lenstronomy's FFT convolution (a pixel
    PSF), which it would otherwise give at every likelihood evaluation."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`axes` should not be `None`", DeprecationWarning)
        yield


def _pixel_psf(kwargs_psf: dict, pixel_width: float) -> dict:
    """The PSF keywords as a pixel kernel: a Gaussian PSF becomes its kernel on the pixel
    grid (lenstronomy's adaptive numerics convolve with kernels only)."""
    if kwargs_psf["psf_type"] != "GAUSSIAN":
        return kwargs_psf
    from lenstronomy.Data.psf import PSF

    gaussian = PSF(
        psf_type="GAUSSIAN",
        fwhm=kwargs_psf["fwhm"],
        truncation=kwargs_psf.get("truncation", 5),
        pixel_size=pixel_width,
    )
    return {"psf_type": "PIXEL", "kernel_point_source": gaussian.kernel_point_source}


def _shear_deflection(shear: Mapping[str, float], x: float, y: float) -> tuple[float, float]:
    """The constant deflection by which ``shear`` about the origin exceeds the same shear
    about (x, y): lenstronomy's SHEAR deflects by [[g1, g2], [g2, -g1]] (position - centre)."""
    gamma1, gamma2 = shear["gamma1"], shear["gamma2"]
    return gamma1 * x + gamma2 * y, gamma2 * x - gamma1 * y


def _without_magnitude(light: Mapping[str, float]) -> dict[str, float]:
    """A light profile's keywords less its magnitude: the fit solves amplitudes linearly."""
    return {name: value for name, value in light.items() if name != "magnitude"}


def fit_kwargs(values: Mapping[str, float]) -> dict[str, list[dict[str, float]]]:
    """lenstronomy keywords of a lens's parameter columns as the fit parametrises them:
    the shear about the origin, the source moved to make up for it, no light amplitudes."""
    kwargs = lenstronomy_kwargs(values)
    mass, shear = kwargs["kwargs_lens"]
    dx, dy = _shear_deflection(shear, shear["ra_0"], shear["dec_0"])
    source = _without_magnitude(kwargs["kwargs_source_mag"][0])
    source["center_x"] -= dx
    source["center_y"] -= dy
    return {
        "kwargs_lens": [mass, dict(shear, ra_0=0.0, dec_0=0.0)],
        "kwargs_lens_light": [_without_magnitude(kwargs["kwargs_lens_light_mag"][0])],
        "kwargs_source": [source],
    }


def fit_columns(best: dict[str, list[dict[str, float]]]) -> dict[str, float]:
    """The parameter-table columns of lenstronomy's best fit (magnitudes are not fitted),
    the source offset back in the simulation's parametrisation (shear about the lens)."""
    (mass, shear), light, source = (
        best["kwargs_lens"],
        best["kwargs_lens_light"][0],
        best["kwargs_source"][0],
    )
    fitted = {f"lens_{name}": float(value) for name, value in mass.items()}
    fitted |= {f"shear_{name}": float(shear[name]) for name in ("gamma1", "gamma2")}
    fitted |= {f"lens_light_{name}": float(light[name]) for name in SERSIC_SHAPE}
    fitted |= {f"source_{name}": float(source[name]) for name in SERSIC_SHAPE}
    dx, dy = _shear_deflection(shear, mass["center_x"], mass["center_y"])
    fitted["source_offset_x"] = float(source["center_x"] + dx - mass["center_x"])
    fitted["source_offset_y"] = float(source["center_y"] + dy - mass["center_y"])
    return fitted
