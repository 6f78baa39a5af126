"""Mock lens images with lenstronomy.

A LensSimulator builds one lenstronomy SimAPI and ImageModel per imaged band once and then
renders any number of lenses with them. Lens ``i`` draws its parameters and its noise from the
generator ``seeding.lens_rng(seed, i)``, in a fixed order (one uniform number per sampled
parameter, then per band the background noise field and the Poisson noise field), so the
image and parameters of lens ``i`` are the same whichever chunk renders it. When the lensing
cut rejects a draw, the lens draws again from ``seeding.redraw_rng(seed, i, 1)``, then
``(seed, i, 2)``, and so on: the result still depends on nothing but the seed and ``i``.
Subhalos (``lens_system.subhalos``) and catalogue source stamps (``lens_system.source_catalogue``)
draw from streams of their own (``lenspipe.simulation.subhalos``,
``lenspipe.simulation.source_catalogue``), so they leave every other number of the lens
unchanged.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from lenspipe import seeding
from lenspipe.errors import SimulationError
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.bands import in_band
from lenspipe.simulation.lensing_cut import arc_snr, passes, source_magnification
from lenspipe.simulation.parameters import (
    LENS_LIGHT_MODEL_LIST,
    POINT_SOURCE_MODEL_LIST,
    SOURCE_MODEL_LIST,
    lenstronomy_kwargs,
)
from lenspipe.simulation.point_sources import shared_point_source, solve, time_delays
from lenspipe.simulation.priors import UNIT_HIGH, UNIT_LOW
from lenspipe.simulation.rendering import AdaptiveImageModel, kwargs_numerics
from lenspipe.simulation.source_catalogue import INTERPOLATED_SOURCE, read_catalogue
from lenspipe.simulation.subhalos import (
    SUBHALO_PROFILE,
    Subhalos,
    draw_subhalos,
    subhalo_kwargs,
)
from tqdm import tqdm


@dataclass
class Rendering:
    """The noise-free images of one draw, per band, and what was measured on them."""

    models: list[np.ndarray]
    measured: list[float]
    visible: bool = True


class LensSimulator:
    """Renders lenses of one run's settings; lenstronomy objects are built once."""

    def __init__(self, settings: SimulationSettings):
        from lenstronomy.ImSim.image_model import ImageModel
        from lenstronomy.SimulationAPI.sim_api import SimAPI

        self.seed: int = settings.seed
        self.image_shape = settings.image.shape
        self.parameter_names = settings.columns.names
        self.add_noise: bool = settings.image.noise
        self._priors = list(settings.priors.by_column.values())
        self._copula = settings.priors.copula
        system = settings.lens_system
        self._has_quasar: bool = system.point_source
        self._cosmology = None
        if system.needs_cosmology:
            from astropy.cosmology import FlatLambdaCDM

            self._cosmology = FlatLambdaCDM(**system.cosmology)
        self._cut = settings.cut if settings.cut.enabled else None
        self._reference = settings.observation.reference_index
        self._offsets = settings.observation.colour_offsets
        kwargs_model = {
            "lens_model_list": system.lens_model_list,
            "lens_light_model_list": LENS_LIGHT_MODEL_LIST,
            "source_light_model_list": SOURCE_MODEL_LIST,
        }
        self._catalogue = None
        if system.source_catalogue is not None:
            self._catalogue = read_catalogue(system.source_catalogue)
            kwargs_model["source_light_model_list"] = INTERPOLATED_SOURCE
        if self._has_quasar:
            kwargs_model["point_source_model_list"] = POINT_SOURCE_MODEL_LIST
        self._sims = [
            SimAPI(
                num_pix=settings.image.num_pix,
                kwargs_single_band=dict(kwargs),
                kwargs_model=kwargs_model,
            )
            for kwargs in settings.observation.band_kwargs
        ]
        self._kwargs_numerics = kwargs_numerics(settings.image.supersampling)
        self._adaptive = settings.image.adaptive
        self._subhalos = system.subhalos
        # The image models of lenses with n subhalos, by n (lens model list + n TNFW).
        self._subhalo_image_models: dict[int, list] = {}
        self._lens_model = self._sims[0].lens_model_class
        if self._has_quasar:
            self._point_source = shared_point_source(self._lens_model)
            image_models = [
                ImageModel(
                    sim.data_class,
                    sim.psf_class,
                    self._lens_model,
                    sim.source_model_class,
                    sim.lens_light_model_class,
                    self._point_source,
                    kwargs_numerics=self._kwargs_numerics,
                )
                for sim in self._sims
            ]
        else:
            image_models = [
                sim.image_model_class(kwargs_numerics=self._kwargs_numerics) for sim in self._sims
            ]
        self._image_models = self._rendered(image_models)

    def draw_parameters(self, rng: np.random.Generator) -> np.ndarray:
        """Draw one value per sampled parameter column, in column order."""
        return self._from_units(self._draw_units(rng)[np.newaxis])[0]

    def _draw_units(self, rng: np.random.Generator) -> np.ndarray:
        """The uniform numbers of one draw, one per prior (correlated by the copula)."""
        unit = np.clip(rng.random(len(self._priors)), UNIT_LOW, UNIT_HIGH)
        if self._copula is not None:
            unit = np.clip(self._copula.correlate(unit), UNIT_LOW, UNIT_HIGH)
        return unit

    def _from_units(self, units: np.ndarray) -> np.ndarray:
        """The parameter rows (N, priors) of the uniform numbers ``units`` (N, priors), each
        prior's inverse CDF called once on its whole column: a scalar call of a
        ``scipy.stats`` distribution costs about as much as rendering a lens."""
        columns = [
            prior.from_unit(np.ascontiguousarray(units[:, column]))
            for column, prior in enumerate(self._priors)
        ]
        return np.stack(columns, axis=1)

    def render(
        self, sampled: np.ndarray, subhalos: Subhalos | None = None, stamp: int | None = None
    ) -> Rendering:
        """Render the noise-free image of every band (counts per second) of one draw, with
        ``subhalos`` added to its lens and catalogue galaxy ``stamp`` as its source when
        given."""
        names = self.parameter_names[: len(self._priors)]
        values = dict(zip(names, sampled[: len(self._priors)].tolist()))
        kwargs = lenstronomy_kwargs(values)
        if stamp is not None:
            source = kwargs["kwargs_source_mag"][0]
            kwargs["kwargs_source_mag"] = [self._catalogue.source_kwargs(stamp, source)]
            # lenstronomy's INTERPOL keeps the interpolation of the first image it was given,
            # whatever image comes next: forget it, so each lens is drawn from its own stamp.
            for sim in self._sims:
                sim.source_model_class.delete_interpol_caches()
        image_models = self._image_models
        if subhalos is not None and len(subhalos.masses):
            redshifts = (values["lens_z"], values["source_z"])
            kwargs["kwargs_lens"] += subhalo_kwargs(
                subhalos, self._subhalos, redshifts, self._cosmology
            )
            image_models = self._image_models_with_subhalos(len(subhalos.masses))
        measured: list[float] = []
        if self._has_quasar:
            quasar = kwargs["kwargs_ps_mag"][0]
            images = solve(self._point_source, self._lens_model, [quasar], kwargs["kwargs_lens"])
            measured += images.tolist()
            if self._cosmology is not None:
                measured += time_delays(
                    self._lens_model,
                    images,
                    kwargs["kwargs_lens"],
                    (quasar["ra_source"], quasar["dec_source"]),
                    (values["lens_z"], values["source_z"]),
                    self._cosmology,
                ).tolist()
        if self._cut is None:
            models = [
                self._band_image(image_models[band], band, kwargs)
                for band in range(len(self._sims))
            ]
            return Rendering(models, measured)
        return self._render_with_cut(image_models, kwargs, measured)

    def _image_models_with_subhalos(self, count: int) -> list:
        """Each band's image model of a lens with ``count`` subhalos, built once per count."""
        from lenstronomy.ImSim.image_model import ImageModel
        from lenstronomy.LensModel.lens_model import LensModel

        if count not in self._subhalo_image_models:
            lens_model = LensModel(self._lens_model.lens_model_list + [SUBHALO_PROFILE] * count)
            self._subhalo_image_models[count] = self._rendered(
                [
                    ImageModel(
                        sim.data_class,
                        sim.psf_class,
                        lens_model,
                        sim.source_model_class,
                        sim.lens_light_model_class,
                        kwargs_numerics=self._kwargs_numerics,
                    )
                    for sim in self._sims
                ]
            )
        return self._subhalo_image_models[count]

    def _rendered(self, image_models: list) -> list:
        """Each band's ImageModel, wrapped for adaptive supersampling when it is on."""
        if self._adaptive is None:
            return image_models
        return [
            AdaptiveImageModel(model, sim.estimate_noise, self._adaptive)
            for model, sim in zip(image_models, self._sims)
        ]

    def _amplitudes(self, band: int, kwargs: dict[str, Any]) -> tuple[list, list, list | None]:
        """lenstronomy amplitudes of the light components in ``band``."""
        shifted = in_band(kwargs, self._offsets[band])
        return self._sims[band].magnitude2amplitude(
            kwargs_lens_light_mag=shifted["kwargs_lens_light_mag"],
            kwargs_source_mag=shifted["kwargs_source_mag"],
            kwargs_ps_mag=shifted["kwargs_ps_mag"],
        )

    def _band_image(
        self,
        image_model,
        band: int,
        kwargs: dict[str, Any],
        source: bool = True,
        rest: bool = True,
    ) -> np.ndarray:
        """The noise-free image of ``band`` made by ``image_model``: the lensed source and/or
        the rest (lens light and quasar)."""
        lens_light, source_amplitudes, point_source = self._amplitudes(band, kwargs)
        return image_model.image(
            kwargs_lens=kwargs["kwargs_lens"],
            kwargs_source=source_amplitudes,
            kwargs_lens_light=lens_light,
            kwargs_ps=point_source,
            source_add=source,
            lens_light_add=rest,
            point_source_add=rest and self._has_quasar,
        )

    def _render_with_cut(
        self, image_models: list, kwargs: dict[str, Any], measured: list[float]
    ) -> Rendering:
        """Render the lensed source and the rest apart, and measure the lensing cut on them."""
        models, arcs, sigma = [], [], []
        for band in range(len(self._sims)):
            arc = self._band_image(image_models[band], band, kwargs, rest=False)
            model = arc + self._band_image(image_models[band], band, kwargs, source=False)
            models.append(model)
            arcs.append(arc)
            sigma.append(self._sims[band].estimate_noise(model))
            if band == self._reference:
                unlensed = self._sims[band].magnitude2cps(
                    kwargs["kwargs_source_mag"][0]["magnitude"]
                )
                magnification = source_magnification(arc, unlensed)
        snr = arc_snr(arcs, sigma)
        images = int(measured[0]) if self._has_quasar else 0
        visible = passes(self._cut, magnification, snr, images)
        return Rendering(models, [*measured, magnification, snr], visible)

    def pix2angle(self) -> np.ndarray:
        """lenstronomy's matrix from a pixel step (x = column, y = row) to (ra, dec), arcsec."""
        return np.asarray(self._sims[0].data_class.transform_pix2angle)

    def background_noise(self) -> np.ndarray:
        """Per band, the sigma of the background (sky and read) noise in counts per second."""
        return np.array([sim.background_noise for sim in self._sims])

    def noise(self, model: np.ndarray, band: int, rng: np.random.Generator) -> np.ndarray:
        """Draw background and Poisson noise for ``model`` of ``band`` from ``rng``.

        The same noise model as ``SimAPI.noise_for_model``, drawn from our generator instead
        of NumPy's global random state.
        """
        sim = self._sims[band]
        background = rng.standard_normal(model.shape) * sim.background_noise
        poisson = rng.standard_normal(model.shape) * sim.flux_noise(model)
        return background + poisson

    def simulate(
        self, lens_index: int, first_draw: tuple[np.random.Generator, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the image (H, W, bands) float32 and the parameter row of lens ``lens_index``;
        ``first_draw`` is its generator and first parameter draw when already made
        (``simulate_many`` draws its lenses' together).

        Raises SimulationError when the lensing cut rejects ``max_draws`` draws in a row.
        """
        rng, sampled, subhalos, stamp, rendering, draw = self._kept_draw(lens_index, first_draw)
        image = np.empty(self.image_shape, dtype=np.float32)
        for band, model in enumerate(rendering.models):
            if self.add_noise:
                model = model + self.noise(model, band, rng)
            image[..., band] = model
        measured = rendering.measured + ([float(draw)] if self._cut is not None else [])
        if subhalos is not None:
            measured += subhalos.summary()
        if stamp is not None:
            measured += [float(stamp), float(self._catalogue.redshifts[stamp])]
        return image, np.concatenate([sampled, measured])

    def mass_model(self, lens_index: int) -> tuple[Any, list[dict[str, Any]], Subhalos | None]:
        """lenstronomy's LensModel of lens ``lens_index``, its keywords and its subhalos
        (None without): what bends its light, for a convergence map."""
        from lenstronomy.LensModel.lens_model import LensModel

        _, sampled, subhalos, _, _, _ = self._kept_draw(lens_index)
        names = self.parameter_names[: len(self._priors)]
        values = dict(zip(names, sampled[: len(self._priors)].tolist()))
        kwargs_lens = lenstronomy_kwargs(values)["kwargs_lens"]
        profiles = list(self._lens_model.lens_model_list)
        if subhalos is not None and len(subhalos.masses):
            redshifts = (values["lens_z"], values["source_z"])
            kwargs_lens += subhalo_kwargs(subhalos, self._subhalos, redshifts, self._cosmology)
            profiles += [SUBHALO_PROFILE] * len(subhalos.masses)
        return LensModel(profiles), kwargs_lens, subhalos

    def _kept_draw(
        self,
        lens_index: int,
        first_draw: tuple[np.random.Generator, np.ndarray] | None = None,
    ) -> tuple:
        """The draw of lens ``lens_index`` that the lensing cut keeps: its generator (for
        the noise), parameters, subhalos, stamp, noise-free rendering and draw number.
        ``first_draw``: the generator and parameters of its first draw, if already made."""
        if first_draw is None:
            first_draw = self._first_draws([lens_index])[0]
        rng, sampled = first_draw
        subhalos = self._draw_subhalos(sampled, lens_index, 0)
        stamp = self._draw_stamp(lens_index, 0)
        rendering = self.render(sampled, subhalos, stamp)
        draw = 0
        while not rendering.visible:
            draw += 1
            if draw == self._cut.max_draws:
                raise SimulationError(
                    f"lensing_cut: lens {lens_index} was rejected {draw} times in a row "
                    "(lensing_cut.max_draws); the thresholds reject (nearly) every lens of "
                    "these priors"
                )
            rng = seeding.redraw_rng(self.seed, lens_index, draw)
            sampled = self.draw_parameters(rng)
            subhalos = self._draw_subhalos(sampled, lens_index, draw)
            stamp = self._draw_stamp(lens_index, draw)
            rendering = self.render(sampled, subhalos, stamp)
        return rng, sampled, subhalos, stamp, rendering, draw

    def _first_draws(
        self, lens_indices: list[int]
    ) -> list[tuple[np.random.Generator, np.ndarray]]:
        """Each lens's generator and first parameter draw, the priors' inverse CDFs called once
        for all of them. A lens's values do not depend on the lenses drawn with it (tested)."""
        rngs = [seeding.lens_rng(self.seed, lens_index) for lens_index in lens_indices]
        if not rngs:
            return []
        values = self._from_units(np.stack([self._draw_units(rng) for rng in rngs]))
        return list(zip(rngs, values))

    def _draw_stamp(self, lens_index: int, draw: int) -> int | None:
        """The catalogue stamp of draw ``draw`` of lens ``lens_index``; None for a Sersic
        source."""
        if self._catalogue is None:
            return None
        return self._catalogue.draw(self.seed, lens_index, draw)

    def _draw_subhalos(self, sampled: np.ndarray, lens_index: int, draw: int) -> Subhalos | None:
        """The subhalos of draw ``draw`` of lens ``lens_index``; None without subhalos."""
        if self._subhalos is None:
            return None
        values = dict(zip(self.parameter_names, sampled.tolist()))
        center = (values["lens_center_x"], values["lens_center_y"])
        return draw_subhalos(
            self._subhalos, self.seed, lens_index, draw, values["lens_theta_E"], center
        )

    def simulate_many(
        self, lens_indices: Iterable[int], bar: tqdm | None = None, pause_seconds: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulate the given lenses; return images (N, H, W, bands) and parameters (N, P).

        ``bar`` is advanced by one per lens. ``pause_seconds`` (for tests only) sleeps after
        each lens, to make a job outlive its time limit.
        """
        lens_indices = list(lens_indices)
        images = np.empty((len(lens_indices), *self.image_shape), dtype=np.float32)
        parameters = np.empty((len(lens_indices), len(self.parameter_names)), dtype=np.float64)
        first_draws = self._first_draws(lens_indices)
        for row, (lens_index, first_draw) in enumerate(zip(lens_indices, first_draws)):
            images[row], parameters[row] = self.simulate(lens_index, first_draw)
            if pause_seconds:
                time.sleep(pause_seconds)
            if bar is not None:
                bar.update()
        return images, parameters
