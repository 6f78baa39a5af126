"""The classical baseline: a lenstronomy maximum-likelihood fit of one lens image.

The fit knows everything the simulation knew except the lens: the model family (the mass
profile of ``lens_system.mass`` with external shear, an elliptical Sersic lens light sharing
the lens centre, an elliptical Sersic source), the PSF, the pixel grid and the noise model
(background and Poisson noise, through lenstronomy's likelihood). Light amplitudes are solved
linearly by lenstronomy at every step. It fits the reference band (``observation.band``).

It starts from a draw of the priors, seeded per lens (stream ``seeding.FIT``), never from the
truth, and searches within the priors' ranges (a normal prior: mean ± 4 sigma) with
lenstronomy's ``FittingSequence``: a particle swarm (PSO) over the whole prior range, then a
second, narrower swarm around the best point (``sigma_scale`` 0.1, half the iterations). The
shear is fitted about the origin (``ra_0 = dec_0 = 0``): the simulation puts it at the lens
centre, which differs only by a constant deflection that the source position absorbs.
The swarm's random numbers are seeded per lens from the master seed.
"""

import time
from typing import Any

import numpy as np

from lenspipe import seeding
from lenspipe.config import bands, parse_priors
from lenspipe.parameters import LENS_LIGHT_MODEL_LIST, SOURCE_MODEL_LIST, lens_model_list
from lenspipe.priors import Prior

_MASS = ("theta_E", "e1", "e2", "center_x", "center_y")
_SERSIC = ("R_sersic", "n_sersic", "e1", "e2")


def _bounds(prior: Prior) -> tuple[float, float]:
    """Search range of one parameter: the prior's support, a normal one cut at ±4 sigma."""
    if prior.dist == "normal":
        return prior.mean - 4 * prior.sigma, prior.mean + 4 * prior.sigma
    return prior.support()


class LensFitter:
    """Fits lenses of one validated config: one lenstronomy data, PSF and model set-up."""

    def __init__(self, config: dict[str, Any]):
        from lenstronomy.SimulationAPI.sim_api import SimAPI

        from lenspipe.observation import band_kwargs

        if config["lens_system"]["point_source"]:
            raise ValueError("the maximum-likelihood fit does not model a lensed quasar")
        self._seed = config["seed"]
        self._band = bands(config).index(config["observation"]["band"])
        self._priors = parse_priors(config)
        self._mass = lens_model_list(config)[0]
        self._kwargs_model = {
            "lens_model_list": [self._mass, "SHEAR"],
            "lens_light_model_list": LENS_LIGHT_MODEL_LIST,
            "source_light_model_list": SOURCE_MODEL_LIST,
        }
        sim = SimAPI(
            num_pix=config["image"]["num_pix"],
            kwargs_single_band=band_kwargs(config["observation"])[self._band],
            kwargs_model=self._kwargs_model,
        )
        self._kwargs_data = sim.kwargs_data
        self._kwargs_psf = sim.kwargs_psf
        self._kwargs_numerics = {"supersampling_factor": config["image"]["supersampling"]}

    def start(self, lens_index: int) -> dict[str, float]:
        """The prior draw the fit of lens ``lens_index`` starts from (column -> value)."""
        rng = seeding.stream(self._seed, seeding.FIT, lens_index)
        return {
            name: float(prior.from_unit(rng.uniform(0.01, 0.99)))
            for name, prior in self._priors.items()
        }

    def _component(self, prefix: str, names: tuple[str, ...], start: dict[str, float]):
        """init, sigma, lower, upper of the columns ``prefix + name`` (lenstronomy names)."""
        init, sigma, lower, upper = {}, {}, {}, {}
        for name in names:
            low, high = _bounds(self._priors[f"{prefix}_{name}"])
            init[name] = float(np.clip(start[f"{prefix}_{name}"], low, high))
            sigma[name], lower[name], upper[name] = (high - low) / 2, low, high
        return init, sigma, lower, upper

    def kwargs_params(self, start: dict[str, float]) -> dict[str, list]:
        """lenstronomy's kwargs_params: start, spread, fixed values and bounds per component."""
        mass_names = _MASS[:3] + (("gamma",) if self._mass == "EPL_NUMBA" else ())
        mass = self._component("lens", mass_names, start)
        shear = self._component("shear", ("gamma1", "gamma2"), start)
        light = self._component("lens_light", _SERSIC, start)
        # The lens centre is sampled as the lens light's and shared (joint_lens_with_light).
        centre = self._component("lens", _MASS[3:], start)
        for part in range(4):
            light[part].update(centre[part])
        source = self._component("source", _SERSIC, start)
        # The source centre: the lens centre plus the offset, within their joint range.
        for axis, offset in (("x", "offset_x"), ("y", "offset_y")):
            low_c, high_c = _bounds(self._priors[f"lens_center_{axis}"])
            low_o, high_o = _bounds(self._priors[f"source_{offset}"])
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

    def fit(
        self, image: np.ndarray, lens_index: int, n_particles: int, n_iterations: int
    ) -> tuple[dict[str, float], float]:
        """Fit one image (H, W, bands); return the fitted lens columns and the seconds taken."""
        from lenstronomy.Workflow.fitting_sequence import FittingSequence

        started = time.perf_counter()
        # lenstronomy's swarm draws from NumPy's global random state: seed it per lens, so a
        # fit is repeatable and does not depend on which lenses were fitted before it.
        np.random.seed(seeding.stream(self._seed, seeding.FIT, lens_index, 1).integers(2**32))
        kwargs_data = dict(self._kwargs_data, image_data=np.asarray(image[..., self._band], float))
        data_joint = {
            "multi_band_list": [[kwargs_data, self._kwargs_psf, self._kwargs_numerics]],
            "multi_band_type": "single-band",
        }
        constraints = {"joint_lens_with_light": [[0, 0, ["center_x", "center_y"]]]}
        sequence = FittingSequence(
            data_joint,
            self._kwargs_model,
            constraints,
            {"check_bounds": True},
            self.kwargs_params(self.start(lens_index)),
            verbose=False,
        )
        sequence.fit_sequence(
            [
                [
                    "PSO",
                    {"sigma_scale": 1.0, "n_particles": n_particles, "n_iterations": n_iterations},
                ],
                [
                    "PSO",
                    {
                        "sigma_scale": 0.1,
                        "n_particles": n_particles,
                        "n_iterations": max(1, n_iterations // 2),
                    },
                ],
            ]
        )
        return _columns(sequence.best_fit()), time.perf_counter() - started


def _columns(best: dict[str, list[dict[str, float]]]) -> dict[str, float]:
    """The parameter-table columns of lenstronomy's best fit (magnitudes are not fitted)."""
    (mass, shear), light, source = (
        best["kwargs_lens"],
        best["kwargs_lens_light"][0],
        best["kwargs_source"][0],
    )
    fitted = {f"lens_{name}": float(value) for name, value in mass.items()}
    fitted |= {f"shear_{name}": float(shear[name]) for name in ("gamma1", "gamma2")}
    fitted |= {f"lens_light_{name}": float(light[name]) for name in _SERSIC}
    fitted |= {f"source_{name}": float(source[name]) for name in _SERSIC}
    fitted["source_offset_x"] = float(source["center_x"] - mass["center_x"])
    fitted["source_offset_y"] = float(source["center_y"] - mass["center_y"])
    return fitted
