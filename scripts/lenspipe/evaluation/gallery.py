"""Example lenses of the run's lens system as each survey preset would see them.

The gallery renders the first lenses of the run (same seed, priors and lens system) under a
survey preset's own bands, pixel scale, exposure, sky and seeing, and draws them asinh-stretched
at the background noise level (several bands as colour), with the quasar's images circled when there is one.
"""

import copy
from pathlib import Path
from typing import Any

import numpy as np
from lenspipe.evaluation.plots import plot_lens_gallery
from lenspipe.figures import plt
from lenspipe.settings import SimulationSettings
from lenspipe.simulation.observation import GALLERY_OBSERVATIONS
from lenspipe.simulation.parameters import MAX_IMAGES
from lenspipe.simulation.simulate import LensSimulator


def preset_settings(settings: dict[str, Any], survey: str) -> dict[str, Any]:
    """The run's simulation settings observed with the preset ``survey`` (no overrides)."""
    preset = copy.deepcopy(settings)
    preset["observation"] = {
        **GALLERY_OBSERVATIONS[survey],
        "coadd_years": None,
        "overrides": {},
        "band_overrides": {},
        "psf": "gaussian",
        "psf_files": {},
    }
    return preset


def survey_gallery(
    settings: dict[str, Any], survey: str, count: int, path: str | Path
) -> plt.Figure:
    """Render lenses 0..count-1 of ``settings`` under ``survey`` and plot them to ``path``;
    returns the saved figure."""
    preset = SimulationSettings.from_config(preset_settings(settings, survey))
    simulator = LensSimulator(preset)
    images, parameters = simulator.simulate_many(range(count))
    names = simulator.parameter_names
    quasar_images = None
    if preset.lens_system.point_source:
        x = parameters[:, [names.index(f"point_source_x_{k}") for k in range(1, MAX_IMAGES + 1)]]
        y = parameters[:, [names.index(f"point_source_y_{k}") for k in range(1, MAX_IMAGES + 1)]]
        quasar_images = list(zip(x, y))
    pixel_scale = preset.image.pixel_scale
    bands = ", ".join(preset.observation.bands)
    title = f"{survey} ({bands}; {pixel_scale:g} arcsec per pixel)"
    stretched = np.arcsinh(images / simulator.background_noise())
    return plot_lens_gallery(stretched, quasar_images, pixel_scale, title, path)
