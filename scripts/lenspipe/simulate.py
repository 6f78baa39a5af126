"""Mock lens images with lenstronomy.

A LensSimulator builds lenstronomy's SimAPI and ImageModel once and then renders any number
of lenses with them. Lens ``i`` draws its parameters and its noise from the generator
``seeding.lens_rng(seed, i)``, in a fixed order (one uniform number per parameter, then the
background noise field, then the Poisson noise field), so the image and parameters of lens
``i`` are the same whichever chunk renders it.
"""

import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from tqdm import tqdm

from lenspipe import seeding
from lenspipe.config import image_shape, parse_priors
from lenspipe.observation import single_band_kwargs
from lenspipe.parameters import (
    LENS_LIGHT_MODEL_LIST,
    LENS_MODEL_LIST,
    PARAMETER_NAMES,
    SOURCE_MODEL_LIST,
    lenstronomy_kwargs,
)

# Generator.random() returns multiples of 2**-53 in [0, 1); clipping to this range keeps the
# inverse CDF of an unbounded prior finite (u = 0 would map to minus infinity).
_UNIT_LOW, _UNIT_HIGH = 2.0**-53, 1.0 - 2.0**-53


class LensSimulator:
    """Renders lenses of one validated config; lenstronomy objects are built once."""

    def __init__(self, config: dict[str, Any]):
        from lenstronomy.SimulationAPI.sim_api import SimAPI

        self.seed: int = config["seed"]
        self.image_shape = image_shape(config)
        self.add_noise: bool = config["image"]["noise"]
        self._priors = list(parse_priors(config).values())
        self._sim = SimAPI(
            num_pix=config["image"]["num_pix"],
            kwargs_single_band=single_band_kwargs(config["observation"]),
            kwargs_model={
                "lens_model_list": LENS_MODEL_LIST,
                "lens_light_model_list": LENS_LIGHT_MODEL_LIST,
                "source_light_model_list": SOURCE_MODEL_LIST,
            },
        )
        self._image_model = self._sim.image_model_class(
            kwargs_numerics={"supersampling_factor": config["image"]["supersampling"]}
        )

    def draw_parameters(self, rng: np.random.Generator) -> np.ndarray:
        """Draw one value per parameter column, in PARAMETER_NAMES order."""
        unit = np.clip(rng.random(len(self._priors)), _UNIT_LOW, _UNIT_HIGH)
        return np.array([prior.from_unit(u) for prior, u in zip(self._priors, unit)])

    def noiseless_image(self, parameters: np.ndarray) -> np.ndarray:
        """Render the model image (counts per second) of one parameter vector."""
        kwargs = lenstronomy_kwargs(dict(zip(PARAMETER_NAMES, parameters.tolist())))
        kwargs_lens_light, kwargs_source, _ = self._sim.magnitude2amplitude(
            kwargs_lens_light_mag=kwargs["kwargs_lens_light_mag"],
            kwargs_source_mag=kwargs["kwargs_source_mag"],
        )
        return self._image_model.image(
            kwargs_lens=kwargs["kwargs_lens"],
            kwargs_source=kwargs_source,
            kwargs_lens_light=kwargs_lens_light,
        )

    def noise(self, model: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw background and Poisson noise for ``model`` from ``rng``.

        The same noise model as ``SimAPI.noise_for_model``, drawn from our generator instead
        of NumPy's global random state.
        """
        background = rng.standard_normal(model.shape) * self._sim.background_noise
        poisson = rng.standard_normal(model.shape) * self._sim.flux_noise(model)
        return background + poisson

    def simulate(self, lens_index: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the image (H, W, 1) float32 and the parameter vector of lens ``lens_index``."""
        rng = seeding.lens_rng(self.seed, lens_index)
        parameters = self.draw_parameters(rng)
        image = self.noiseless_image(parameters)
        if self.add_noise:
            image = image + self.noise(image, rng)
        return image.astype(np.float32)[..., np.newaxis], parameters

    def simulate_many(
        self, lens_indices: Iterable[int], bar: tqdm | None = None, pause_seconds: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulate the given lenses; return images (N, H, W, 1) and parameters (N, P).

        ``bar`` is advanced by one per lens. ``pause_seconds`` (for tests only) sleeps after
        each lens, to make a job outlive its time limit.
        """
        lens_indices = list(lens_indices)
        images = np.empty((len(lens_indices), *self.image_shape), dtype=np.float32)
        parameters = np.empty((len(lens_indices), len(PARAMETER_NAMES)), dtype=np.float64)
        for row, lens_index in enumerate(lens_indices):
            images[row], parameters[row] = self.simulate(lens_index)
            if pause_seconds:
                time.sleep(pause_seconds)
            if bar is not None:
                bar.update()
        return images, parameters
