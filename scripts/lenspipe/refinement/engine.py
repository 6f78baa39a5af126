"""CNN-seeded lens modelling: one image fitted from the network's calibrated prediction.

The model is the fit baseline's (``lenspipe.baselines.likelihood_fit``): the run's mass profile
with external shear, an elliptical Sersic lens light sharing the lens centre, an elliptical
Sersic source, the run's PSF, pixel grid and noise, light amplitudes solved linearly at every
step, and adaptive numerics under adaptive rendering. Where the blind fit searches the whole
prior with a particle swarm, a refinement starts where the CNN says the lens is:

1. **Seed.** Mass and shear start at the CNN's means; their search is confined to the means
   plus or minus ``confine_sigmas`` of the CNN's calibrated sigma (within the priors).
2. **Cheap first step** for the light, which the CNN does not predict: with the mass held at
   the CNN's means, the source centre is chosen on a grid of offsets from the lens centre
   (each point one linear solve), then a short least-squares descent fits the lens light's and
   source's shapes and the source centre.
3. **Descent** of every parameter together to the optimum: trust-region least squares
   (SciPy's ``least_squares``, method ``trf``, which is Levenberg-Marquardt with bounds) on the
   noise-weighted residuals, its Jacobian from finite differences.
4. Under adaptive rendering, a **final descent that renders as the simulation does**: the
   pixels the simulation's adaptive renderer would refine for the model found so far are
   supersampled ``MODEL_FACTOR`` times per side. The descents before supersample the cusps
   the data's curvature shows; the difference biases the optimum by about a Fisher sigma.
5. Where the simulation refines further (its ``max_factor``, 32 by default), a **rendering
   correction**: Gauss-Newton steps on the residuals rendered that finely, reusing the final
   descent's Jacobian (rendering changes the model, hardly its derivatives), each one model
   evaluation where a descent at 32 costs 4 times as much per evaluation, 18 evaluations a
   step. If the steps do not settle within ``CORRECTION_STEPS`` the lens gets a full descent
   at that factor (at most a third of ``max_steps``): for a compact, cuspy source, 16 cells a
   side leave a model error of hundreds of chi^2 that moves the optimum by several sigma, too
   far for a fixed Jacobian.

Convergence is judged from the data alone, never the truth: the chi^2 (-2 ln L, lenstronomy's
image likelihood with the model's Poisson noise) per pixel at most ``max_chi2_per_pixel``. A
lens that fails falls back to ``restarts``: ``n_restarts`` seeds drawn around the CNN's means
with ``restart_sigmas`` times its sigma (seeded per lens and restart), searched within the
whole prior; the best of them is finished as in steps 4 and 5, and the better of it and the
seeded fit kept. Each lens records its path (``seeded`` or ``restarts``; with
no restarts configured a lens that fails stays ``seeded``).

Uncertainties come from the Fisher matrix at the optimum: J^T J of the noise-weighted residuals'
Jacobian (with the light amplitudes solved linearly at every point, so they are marginalised),
inverted; sigma is the square root of its diagonal, scaled by sqrt(chi^2 per pixel) where that
exceeds 1 (the usual allowance for model error the noise does not explain).
"""

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from lenspipe import seeding
from lenspipe.baselines.likelihood_fit import (
    SERSIC_SHAPE,
    LensFitter,
    fit_columns,
    fit_kwargs,
    quiet_lenstronomy,
    search_bounds,
)
from lenspipe.errors import ImageError
from lenspipe.settings import RefineSearch, SimulationSettings
from scipy.optimize import least_squares

SEEDED = "seeded"
RESTARTS = "restarts"
PATHS = (SEEDED, RESTARTS)
"""The paths a lens can take: the CNN-seeded descent, then, if that fails, the restarts."""
MODEL_FACTOR = 16
"""The final descent under adaptive rendering supersamples the pixels the simulation refines
this many times per side (fewer if the simulation's ``max_factor`` is smaller)."""
CORRECTION_STEPS = 4
"""Most Gauss-Newton steps of the rendering correction."""
CORRECTION_SETTLED = 0.3
"""The rendering correction has settled once a step would move every parameter by less than
this many of its Fisher sigma."""
_CENTRE = ("center_x", "center_y")
_SOURCE_CENTRE = ("source_center_x", "source_center_y")


@dataclass(frozen=True)
class Refined:
    """One lens refined."""

    parameters: dict[str, float]
    """Fitted parameter columns (magnitudes and redshifts are not fitted)."""
    sigma: dict[str, float]
    """The Fisher-matrix standard deviation of each fitted column of ``parameters``."""
    chi2: float
    """-2 ln L at the fit (lenstronomy's image likelihood)."""
    chi2_per_pixel: float
    converged: bool
    path: str
    """``seeded`` or ``restarts``."""
    n_descents: int
    evaluations: int
    """Model evaluations of every step together."""
    seconds: float


@dataclass(frozen=True)
class _Fit:
    """The end of one descent: its problem, vector, chi^2 and Jacobian."""

    problem: "ResidualProblem"
    x: np.ndarray
    chi2: float
    jacobian: np.ndarray
    evaluations: int


class ParameterVector:
    """The fitted parameters as one vector in the fit's parametrisation: the mass (its centre
    shared by the lens light), the shear about the origin, the lens light's and source's
    Sersic shapes and the source's absolute centre."""

    def __init__(self, settings: SimulationSettings):
        priors = settings.priors.by_column
        mass = [f"lens_{name}" for name in settings.lens_system.mass_parameters]
        shapes = [f"{part}_{name}" for part in ("lens_light", "source") for name in SERSIC_SHAPE]
        self.names = [*mass, "shear_gamma1", "shear_gamma2", *shapes, *_SOURCE_CENTRE]
        self.mass_and_shear = len(mass) + 2
        bounds = [search_bounds(priors[name]) for name in self.names[: -len(_SOURCE_CENTRE)]]
        for axis in ("x", "y"):
            low_c, high_c = search_bounds(priors[f"lens_center_{axis}"])
            low_o, high_o = search_bounds(priors[f"source_offset_{axis}"])
            bounds.append((low_c + low_o, high_c + high_o))
        self.lower, self.upper = (np.array(side, float) for side in zip(*bounds))
        self.medians = np.array(
            [float(priors[name].from_unit(0.5)) for name in self.names[: -len(_SOURCE_CENTRE)]]
            + [0.0, 0.0]
        )
        self.offset_range = np.array(
            [(search_bounds(priors[f"source_offset_{axis}"])) for axis in ("x", "y")]
        )
        self.free = self.upper > self.lower
        """Parameters the priors leave free (a fixed prior holds its value)."""

    def index(self, name: str) -> int:
        return self.names.index(name)

    def of_columns(self, values: Mapping[str, float]) -> np.ndarray:
        """The vector of a lens's parameter columns (the simulation's parametrisation, e.g.
        its truth): the shear about the origin and the source centre made up for it."""
        kwargs = fit_kwargs(values)
        (mass, shear), light = kwargs["kwargs_lens"], kwargs["kwargs_lens_light"][0]
        source = kwargs["kwargs_source"][0]
        by_name = {f"lens_{name}": value for name, value in mass.items()}
        by_name |= {f"shear_{name}": shear[name] for name in ("gamma1", "gamma2")}
        by_name |= {f"lens_light_{name}": light[name] for name in SERSIC_SHAPE}
        by_name |= {f"source_{name}": source[name] for name in (*SERSIC_SHAPE, *_CENTRE)}
        return np.array([by_name[name] for name in self.names], float)

    def kwargs(self, x: np.ndarray) -> dict[str, list[dict[str, float]]]:
        """lenstronomy's keyword lists of vector ``x`` (unit light amplitudes)."""
        values = dict(zip(self.names, (float(v) for v in x)))
        mass = {
            name.removeprefix("lens_"): value
            for name, value in values.items()
            if name.startswith("lens_") and not name.startswith("lens_light_")
        }
        shear = {"gamma1": values["shear_gamma1"], "gamma2": values["shear_gamma2"]}
        light = {name: values[f"lens_light_{name}"] for name in SERSIC_SHAPE}
        light |= {name: mass[name] for name in _CENTRE}
        source = {name: values[f"source_{name}"] for name in (*SERSIC_SHAPE, *_CENTRE)}
        return {
            "kwargs_lens": [mass, dict(shear, ra_0=0.0, dec_0=0.0)],
            "kwargs_lens_light": [dict(light, amp=1.0)],
            "kwargs_source": [dict(source, amp=1.0)],
        }


class LensRefiner:
    """Refines lenses of one run's settings from CNN predictions (see the module docstring)."""

    def __init__(self, settings: SimulationSettings, search: RefineSearch):
        self._fitter = LensFitter(settings)
        self._vector = ParameterVector(settings)
        self._search = search
        self._seed = settings.seed
        self._shape = settings.image.shape
        adaptive = settings.image.adaptive
        self._max_factor = adaptive.max_factor if adaptive is not None else MODEL_FACTOR

    @property
    def vector(self) -> "ParameterVector":
        """The fitted parameters' vector (names, bounds, lenstronomy keywords)."""
        return self._vector

    def problem(self, image: np.ndarray, name: str = "image") -> "ResidualProblem":
        """The least-squares problem of one image (H, W, bands) under the first descents'
        numerics; an ``ImageError`` naming ``name`` for an image ``check_image`` refuses."""
        image = self.check_image(image, name)
        return ResidualProblem(self._fitter.image_fit(image), self._vector, image)

    def check_image(self, image: np.ndarray, name: str) -> np.ndarray:
        """``image`` as float64, or an ``ImageError`` naming ``name`` if its shape is not the
        run's (H, W, bands) or it has a pixel that is not finite."""
        image = np.asarray(image)
        if image.shape != self._shape:
            raise ImageError(f"{name}: an image of shape {image.shape}, expected {self._shape}")
        if not np.all(np.isfinite(image)):
            bad = int(np.count_nonzero(~np.isfinite(image)))
            raise ImageError(
                f"{name}: {bad} pixels are NaN or infinite; every pixel must be finite"
            )
        return image.astype(float)

    def refine(
        self,
        image: np.ndarray,
        mean: Mapping[str, float],
        sigma: Mapping[str, float],
        lens_index: int,
    ) -> Refined:
        """Refine one image (H, W, bands) from the CNN's calibrated ``mean`` and ``sigma``
        (column -> value, the mass and shear columns it predicts); ``lens_index`` seeds the
        restarts. Raises ``ImageError`` for an image of the wrong shape or with NaN pixels."""
        started = time.perf_counter()
        problem = self.problem(image, f"lens {lens_index}")
        centre, spread = self._seed_of(mean, sigma)
        confined = self._confined(centre, spread, self._search.confine_sigmas)
        seeded = self._finished(problem, self._path(problem, centre, confined), confined)
        finished, unfinished = [seeded], []
        path = SEEDED
        if not self._converged(seeded) and self._search.n_restarts:
            path = RESTARTS
            rng = seeding.stream(self._seed, seeding.REFINE, lens_index)
            # The light starts at the priors' medians again: its first step searches it.
            width = np.nan_to_num(spread) * self._search.restart_sigmas
            whole = (self._vector.lower, self._vector.upper)
            restarts = []
            for _ in range(self._search.n_restarts):
                draw = centre + width * rng.standard_normal(len(centre))
                start = np.clip(draw, self._vector.lower, self._vector.upper)
                restarts.append(self._path(problem, start, whole))
            # Only the best restart is rendered as the simulation renders: the costly part.
            best_restart = min(restarts, key=lambda fit: fit.chi2)
            unfinished = [fit for fit in restarts if fit is not best_restart]
            finished.append(self._finished(problem, best_restart, whole))
        best = min(finished, key=lambda fit: fit.chi2)
        chi2 = best.problem.chi2(best.x)
        per_pixel = chi2 / problem.n_pixels
        kwargs = self._vector.kwargs(best.x)
        parameters = fit_columns(kwargs)
        return Refined(
            parameters=parameters,
            sigma=self._sigmas(best, per_pixel, parameters),
            chi2=chi2,
            chi2_per_pixel=per_pixel,
            converged=bool(per_pixel <= self._search.max_chi2_per_pixel),
            path=path,
            n_descents=len(finished) + len(unfinished),
            evaluations=sum(fit.evaluations for fit in finished + unfinished),
            seconds=time.perf_counter() - started,
        )

    def _seed_of(
        self, mean: Mapping[str, float], sigma: Mapping[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The starting vector (the CNN's means for the mass and shear, the priors' medians
        for the rest) and the CNN's sigma for the mass and shear (NaN for the rest)."""
        vector = self._vector
        centre, spread = vector.medians.copy(), np.full(len(vector.names), np.nan)
        for k, name in enumerate(vector.names[: vector.mass_and_shear]):
            if name in mean:
                centre[k], spread[k] = mean[name], sigma[name]
        for axis, name in zip("xy", _SOURCE_CENTRE):
            centre[vector.index(name)] = centre[vector.index(f"lens_center_{axis}")]
        return np.clip(centre, vector.lower, vector.upper), spread

    def _confined(
        self, centre: np.ndarray, spread: np.ndarray, sigmas: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the seeded search: the CNN's mean +- ``sigmas`` sigma for the mass and
        shear, within the priors; the priors' bounds for the rest."""
        vector = self._vector
        known = np.isfinite(spread)
        lower, upper = vector.lower.copy(), vector.upper.copy()
        lower[known] = np.maximum(lower[known], centre[known] - sigmas * spread[known])
        upper[known] = np.minimum(upper[known], centre[known] + sigmas * spread[known])
        return lower, upper

    def _path(
        self, problem: "ResidualProblem", start: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]
    ) -> _Fit:
        """One path from ``start``: the light's first step with the mass held, then the
        descent of everything within ``bounds``."""
        vector = self._vector
        start = self._source_on_grid(problem, start)
        light = vector.free.copy()
        light[: vector.mass_and_shear] = False
        steps = self._search.max_steps
        first = problem.descend(start, light, bounds, max(steps // 2, 1))
        final = problem.descend(first.x, vector.free, bounds, steps)
        return dataclasses.replace(final, evaluations=first.evaluations + final.evaluations)

    def _finished(
        self, problem: "ResidualProblem", fit: _Fit, bounds: tuple[np.ndarray, np.ndarray]
    ) -> _Fit:
        """``fit`` (a path's) finished under adaptive rendering: the first descents supersample
        the cusps the data's curvature shows above its noise; this descends again rendering as
        the simulation does, supersampling exactly the pixels its adaptive renderer would
        refine for the model found so far, which takes out the model error that would bias
        the optimum (steps 4 and 5 of the module docstring)."""
        if not self._fitter.adaptive:
            return fit
        vector, steps = self._vector, self._search.max_steps
        pixels = self._fitter.rendered_pixels(problem.solved_kwargs(fit.x))
        rendered = self._rendered_problem(problem, pixels, MODEL_FACTOR)
        final = rendered.descend(fit.x, vector.free, bounds, steps)
        evaluations = fit.evaluations + final.evaluations
        if self._max_factor > MODEL_FACTOR:
            finer = self._rendered_problem(problem, pixels, self._max_factor)
            final, settled = self._corrected(final, finer, bounds)
            evaluations += final.evaluations
            if not settled:
                final = finer.descend(final.x, vector.free, bounds, max(steps // 3, 2))
                evaluations += final.evaluations
        return dataclasses.replace(final, evaluations=evaluations)

    def _rendered_problem(
        self, problem: "ResidualProblem", pixels: np.ndarray, factor: int
    ) -> "ResidualProblem":
        """The problem of ``problem``'s image with the 2-D mask ``pixels`` supersampled
        ``factor`` times a side (at most the simulation's ``max_factor``)."""
        image = problem.data_image
        fit = self._fitter.image_fit(image, pixels, min(factor, self._max_factor))
        return ResidualProblem(fit, self._vector, image)

    def _corrected(
        self, fit: _Fit, finer: "ResidualProblem", bounds: tuple[np.ndarray, np.ndarray]
    ) -> tuple[_Fit, bool]:
        """``fit`` moved towards the optimum of the ``finer`` rendering by Gauss-Newton steps
        that reuse ``fit``'s Jacobian, and whether they settled (a step that does not lower
        the chi^2 is not taken)."""
        free = self._vector.free
        solve = np.linalg.pinv(fit.jacobian[:, free])
        sigma = np.sqrt(np.diag(solve @ solve.T))
        x, residuals = fit.x, finer.residuals(fit.x)
        chi2, evaluations, settled = float(residuals @ residuals), 1, False
        for _ in range(CORRECTION_STEPS):
            step = -(solve @ residuals)
            settled = bool(np.all(np.abs(step) < CORRECTION_SETTLED * sigma))
            trial = x.copy()
            trial[free] = np.clip(x[free] + step, bounds[0][free], bounds[1][free])
            trial_residuals = finer.residuals(trial)
            evaluations += 1
            trial_chi2 = float(trial_residuals @ trial_residuals)
            if trial_chi2 >= chi2:
                break
            x, residuals, chi2 = trial, trial_residuals, trial_chi2
            if settled:
                break
        return _Fit(finer, x, chi2, fit.jacobian, evaluations), settled

    def _source_on_grid(self, problem: "ResidualProblem", start: np.ndarray) -> np.ndarray:
        """``start`` with the source centre of least chi^2 on a grid of offsets from the lens
        centre spanning the offset priors' search range (the mass held at ``start``)."""
        vector = self._vector
        k = self._search.source_grid
        ix, iy = (vector.index(name) for name in _SOURCE_CENTRE)
        centre = start[[vector.index("lens_center_x"), vector.index("lens_center_y")]]
        axes = [np.linspace(low, high, k + 2)[1:-1] for low, high in vector.offset_range]
        best, best_chi2 = start, np.inf
        for dx in axes[0]:
            for dy in axes[1]:
                trial = start.copy()
                trial[ix], trial[iy] = centre[0] + dx, centre[1] + dy
                trial = np.clip(trial, vector.lower, vector.upper)
                chi2 = float(np.sum(np.square(problem.residuals(trial))))
                if chi2 < best_chi2:
                    best, best_chi2 = trial, chi2
        return best

    def _converged(self, fit: _Fit) -> bool:
        chi2_per_pixel = fit.problem.chi2(fit.x) / fit.problem.n_pixels
        return chi2_per_pixel <= self._search.max_chi2_per_pixel

    def _sigmas(
        self, fit: _Fit, chi2_per_pixel: float, parameters: Mapping[str, float]
    ) -> dict[str, float]:
        """The Fisher-matrix sigma of each fitted column, scaled by sqrt(chi^2 per pixel)
        above 1. The source offset's sigma is the source centre's combined with the lens
        centre's (their covariance included)."""
        vector = self._vector
        free = np.flatnonzero(vector.free)
        jacobian = fit.jacobian[:, free]
        covariance = np.full((len(vector.names), len(vector.names)), 0.0)
        covariance[np.ix_(free, free)] = np.linalg.pinv(jacobian.T @ jacobian)
        covariance *= max(1.0, chi2_per_pixel)
        sigma = {}
        for column in parameters:
            if column in vector.names:
                k = vector.index(column)
                sigma[column] = float(np.sqrt(covariance[k, k]))
            elif column.startswith("source_offset_"):
                axis = column[-1]
                s, c = vector.index(f"source_center_{axis}"), vector.index(f"lens_center_{axis}")
                variance = covariance[s, s] + covariance[c, c] - 2 * covariance[s, c]
                sigma[column] = float(np.sqrt(max(variance, 0.0)))
        return sigma


class ResidualProblem:
    """The least-squares problem of one image: noise-weighted residuals of a parameter vector,
    light amplitudes solved linearly at each evaluation."""

    def __init__(self, model, vector: ParameterVector, data_image: np.ndarray):
        self._model = model
        self.data_image = data_image
        """The image (H, W, bands) the problem fits."""
        self._vector = vector
        self._data = model.Data.data
        # Fixed weights for the descent: the data's own variance estimate (background and
        # Poisson noise of the data), as lenstronomy's linear solve uses.
        self._weight = 1 / np.sqrt(model.Data.C_D)
        self.n_pixels = self._data.size

    def solved_kwargs(self, x: np.ndarray) -> dict[str, list[dict[str, float]]]:
        """lenstronomy's keyword lists of ``x`` with the light amplitudes solved linearly."""
        kwargs = self._vector.kwargs(x)
        with quiet_lenstronomy():
            # The linear solve writes each amplitude into the keywords it was given.
            self._model.image_linear_solve(**kwargs)
        return kwargs

    def image(self, x: np.ndarray) -> np.ndarray:
        with quiet_lenstronomy():
            return self._model.image_linear_solve(**self._vector.kwargs(x))[0]

    def residuals(self, x: np.ndarray) -> np.ndarray:
        return ((self._data - self.image(x)) * self._weight).ravel()

    def chi2(self, x: np.ndarray) -> float:
        """-2 ln L of lenstronomy's image likelihood at ``x`` (the model's Poisson noise)."""
        with quiet_lenstronomy():
            log_likelihood, _ = self._model.likelihood_data_given_model(**self._vector.kwargs(x))
        return float(-2 * log_likelihood)

    def descend(
        self,
        start: np.ndarray,
        free: np.ndarray,
        bounds: tuple[np.ndarray, np.ndarray],
        max_steps: int,
    ) -> _Fit:
        """Trust-region least squares over the ``free`` parameters from ``start`` within
        ``bounds``, the others held."""
        lower, upper = (side[free] for side in bounds)
        x0 = np.clip(start[free], lower, upper)
        full = start.copy()

        def residuals(values: np.ndarray) -> np.ndarray:
            full[free] = values
            return self.residuals(full)

        scale = np.maximum((upper - lower) / 20, 1e-6)
        result = least_squares(
            residuals,
            x0,
            bounds=(lower, upper),
            method="trf",
            x_scale=scale,
            diff_step=1e-7,
            max_nfev=max_steps,
        )
        x = start.copy()
        x[free] = result.x
        jacobian = np.zeros((self.n_pixels, len(start)))
        jacobian[:, free] = result.jac
        chi2 = 2 * float(result.cost)
        return _Fit(self, x, chi2, jacobian, int(result.nfev + result.njev * free.sum()))
