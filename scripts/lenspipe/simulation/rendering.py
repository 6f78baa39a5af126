"""Adaptive supersampling: each lens's image integrated over its pixels where it needs it.

lenstronomy samples the surface brightness at the centre of each pixel (supersampling 1) or
on a uniform F x F grid in every pixel (supersampling F). A pixel centre misses the cusps of
the Sersic profiles (the lens light's core, and the lensed images of a compact source's core)
by tens to thousands of sigma of the noise, while a uniform grid fine enough for them costs
F^2 times as much everywhere. ``AdaptiveImageModel`` renders like lenstronomy's ImageModel
at supersampling 1, then refines only the pixels that need it:

1. the surface brightness (source and lens light apart) at every pixel centre;
2. the noise sigma of each pixel, from the PSF-convolved image of step 1;
3. candidate pixels: where the discrete Laplacian of step 1 says the centre value misses the
   pixel mean (by (h^2/24) * Laplacian) by more than ``candidate_threshold`` sigma, and their
   four neighbours;
4. each candidate is split into 2 x 2 cells, and a cell whose four sub-cell samples differ
   from its own sample by more than ``tolerance`` sigma (weighted by the cell's area) is
   split again, down to cells of 1 / ``max_factor`` of a pixel;
5. the pixel values, the mean of their cells, are convolved with the PSF as lenstronomy does.

Everything depends on the lens's own parameters only, so a lens renders the same in any chunk.
A cell split to the bottom everywhere is lenstronomy's uniform ``max_factor`` grid.
"""

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

# The four sub-cell centres of a cell, in units of the cell's side.
_QUARTERS = np.array([[-0.25, -0.25], [0.25, -0.25], [-0.25, 0.25], [0.25, 0.25]])


@dataclass(frozen=True)
class AdaptiveSettings:
    """``image.adaptive_supersampling``: thresholds in sigma of the noise, finest cell."""

    tolerance: float
    candidate_threshold: float
    max_factor: int

    @property
    def levels(self) -> int:
        """How many times a pixel may be split in 2 x 2."""
        return int(round(np.log2(self.max_factor)))


def adaptive_settings(image: dict[str, Any]) -> AdaptiveSettings | None:
    """The adaptive settings of a validated ``image`` section; None for a uniform factor."""
    if image["supersampling"] != "adaptive":
        return None
    return AdaptiveSettings(**image["adaptive_supersampling"])


def kwargs_numerics(supersampling: int | str) -> dict[str, int]:
    """lenstronomy's ``kwargs_numerics`` of ``image.supersampling``: the uniform factor, 1
    under adaptive rendering."""
    return {"supersampling_factor": 1 if supersampling == "adaptive" else supersampling}


class AdaptiveImageModel:
    """lenstronomy's ``ImageModel.image`` with adaptive supersampling of the extended light.

    ``image_model`` is a lenstronomy ImageModel at supersampling 1 (its grid, PSF, light and
    lens models are used); ``estimate_noise`` maps an image to the noise sigma per pixel.
    """

    def __init__(
        self,
        image_model: Any,
        estimate_noise: Callable[[np.ndarray], np.ndarray],
        settings: AdaptiveSettings,
    ):
        self.image_model = image_model
        self._estimate_noise = estimate_noise
        self._settings = settings
        self._x, self._y = image_model.ImageNumerics.coordinates_evaluate
        self._shape = tuple(image_model.Data.num_pixel_axes)
        self._pix2angle = np.asarray(image_model.Data.transform_pix2angle)
        self._area = image_model.Data.pixel_width**2

    def image(
        self,
        kwargs_lens: list[dict],
        kwargs_source: list[dict],
        kwargs_lens_light: list[dict],
        kwargs_ps: list[dict] | None = None,
        source_add: bool = True,
        lens_light_add: bool = True,
        point_source_add: bool = True,
    ) -> np.ndarray:
        """The noise-free image, as ``ImageModel.image`` with the same switches."""
        components = []
        if source_add:
            components.append(self._source_brightness(kwargs_lens, kwargs_source))
        if lens_light_add:
            components.append(self._lens_light_brightness(kwargs_lens_light))
        model = np.zeros(self._shape)
        if components:
            for flux in self.pixel_fluxes(components):
                model += self.image_model.ImageNumerics.re_size_convolve(flux)
        if point_source_add:
            model += self.image_model.point_source(kwargs_ps, kwargs_lens)
        return model

    def _source_brightness(self, kwargs_lens: list, kwargs_source: list) -> Callable:
        lens, source = self.image_model.LensModel, self.image_model.SourceModel

        def brightness(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return source.surface_brightness(*lens.ray_shooting(x, y, kwargs_lens), kwargs_source)

        return brightness

    def _lens_light_brightness(self, kwargs_lens_light: list) -> Callable:
        light = self.image_model.LensLightModel

        def brightness(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return light.surface_brightness(x, y, kwargs_lens_light)

        return brightness

    def refined_pixels(
        self, kwargs_lens: list[dict], kwargs_source: list[dict], kwargs_lens_light: list[dict]
    ) -> np.ndarray:
        """2-D mask of the pixels ``image`` refines for the lensed source and lens light
        (the candidates of step 3)."""
        components = [
            self._source_brightness(kwargs_lens, kwargs_source),
            self._lens_light_brightness(kwargs_lens_light),
        ]
        centre = [brightness(self._x, self._y) for brightness in components]
        return self._candidates(centre, self._centre_sigma(centre)).reshape(self._shape)

    def _centre_sigma(self, centre: list[np.ndarray]) -> np.ndarray:
        """The noise sigma per pixel (1-D) of the PSF-convolved pixel-centre image."""
        convolve = self.image_model.ImageNumerics.re_size_convolve
        return self._estimate_noise(convolve(sum(centre))).ravel()

    def pixel_fluxes(self, components: list[Callable]) -> list[np.ndarray]:
        """Each component's mean surface brightness per pixel (1-D, lenstronomy's order),
        refined where the pixel centre misses it."""
        centre = [brightness(self._x, self._y) for brightness in components]
        sigma = self._centre_sigma(centre)
        candidates = self._candidates(centre, sigma)
        pixels = np.flatnonzero(candidates)
        refined = [np.zeros_like(values) for values in centre]
        offsets = np.zeros((len(pixels), 2))
        samples = [values[pixels] for values in centre]
        side, area = 1.0, 1.0
        for level in range(self._settings.levels):
            if not len(pixels):
                break
            cells = (offsets[:, None, :] + side * _QUARTERS[None, :, :]).reshape(-1, 2)
            angles = self._pix2angle @ cells.T
            owners = np.repeat(pixels, 4)
            x, y = self._x[owners] + angles[0], self._y[owners] + angles[1]
            values = [brightness(x, y) for brightness in components]
            means = [value.reshape(-1, 4).mean(axis=1) for value in values]
            change = sum(np.abs(mean - sample) for mean, sample in zip(means, samples))
            split = change * self._area * area > self._settings.tolerance * sigma[pixels]
            if level == self._settings.levels - 1:
                split[:] = False
            done = ~split
            for total, mean in zip(refined, means):
                total += np.bincount(pixels[done], area * mean[done], minlength=total.size)
            keep = np.repeat(split, 4)
            pixels, offsets = owners[keep], cells[keep]
            samples = [value[keep] for value in values]
            side, area = side / 2, area / 4
        return [np.where(candidates, total, values) for total, values in zip(refined, centre)]

    def _candidates(self, centre: list[np.ndarray], sigma: np.ndarray) -> np.ndarray:
        """Pixels whose centre value may miss their mean by more than the threshold, and
        their neighbours (1-D mask)."""
        error = sum(centre_error(values.reshape(self._shape)) for values in centre)
        return pixels_to_refine(
            error * self._area, sigma.reshape(self._shape), self._settings.candidate_threshold
        ).ravel()


def centre_error(values: np.ndarray) -> np.ndarray:
    """How far each pixel's centre value may lie from its mean over the pixel, in the units
    of the 2-D ``values`` per pixel area: (h^2 / 24) times the discrete Laplacian."""
    from scipy import ndimage

    return np.abs(ndimage.laplace(values, mode="nearest")) / 24


def pixels_to_refine(error: np.ndarray, sigma: np.ndarray, threshold: float) -> np.ndarray:
    """2-D mask of the pixels whose ``error`` exceeds ``threshold`` times the noise
    ``sigma``, and of their four neighbours."""
    from scipy import ndimage

    return ndimage.binary_dilation(error > threshold * sigma)
