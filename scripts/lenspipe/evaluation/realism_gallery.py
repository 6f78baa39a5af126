"""What the realism switches put into the images, drawn: each band's pixel PSF, the first
catalogue galaxies, and the convergence of a lens with subhalos (``plots/realism.png``)."""

from pathlib import Path
from typing import Any

import numpy as np
from lenspipe.config import realism_switches
from lenspipe.evaluation.plots import Panel, plot_panels
from lenspipe.figures import plt
from lenspipe.settings import SimulationSettings, imaged_bands
from lenspipe.simulation.observation import read_kernel
from lenspipe.simulation.simulate import LensSimulator
from lenspipe.simulation.source_catalogue import read_catalogue

STAMPS_SHOWN = 4
LENSES_SEARCHED = 50
"""The first lens among these with at least one subhalo is the one whose convergence is drawn."""


def realism_gallery(settings: dict[str, Any], path: str | Path) -> plt.Figure:
    """Draw the panels of every realism switch that ``settings`` turns on; returns the saved
    figure."""
    switches = realism_switches(settings)
    panels: list[Panel] = []
    if "psf" in switches:
        for band in imaged_bands(settings):
            field = f"observation.psf_files.{band}"
            kernel = read_kernel(settings["observation"]["psf_files"][band], field)
            panels.append(Panel(f"PSF {band} (log10)", np.log10(np.clip(kernel, 1e-6, None))))
    if "sources" in switches:
        catalogue = read_catalogue(settings["lens_system"]["source_catalogue"])
        for stamp in range(min(STAMPS_SHOWN, len(catalogue))):
            title = f"source stamp {stamp} (z = {catalogue.redshifts[stamp]:.2f})"
            panels.append(Panel(title, np.arcsinh(catalogue.images[stamp] * 1e3)))
    if "subhalos" in switches:
        panels += convergence_panels(settings)
    return plot_panels(panels, "What the images are made of: " + ", ".join(switches), path)


def convergence_panels(settings: dict[str, Any]) -> list[Panel]:
    """log10 convergence of the first lens with subhalos, whole and of its subhalos alone;
    none if the first LENSES_SEARCHED lenses have no subhalo."""
    from lenstronomy.LensModel.lens_model import LensModel

    simulator = LensSimulator(SimulationSettings.from_config(settings))
    for lens in range(LENSES_SEARCHED):
        lens_model, kwargs, subhalos = simulator.mass_model(lens)
        if len(subhalos.masses):
            break
    else:
        return []
    half_width = settings["image"]["num_pix"] * abs(simulator.pix2angle()[0, 0]) / 2
    grid = np.linspace(-half_width, half_width, 4 * settings["image"]["num_pix"])
    x, y = (axis.ravel() for axis in np.meshgrid(grid, grid))
    shape = (len(grid), len(grid))
    count = len(subhalos.masses)
    lumps_model = LensModel(lens_model.lens_model_list[-count:])
    total = lens_model.kappa(x, y, kwargs).reshape(shape)
    lumps = lumps_model.kappa(x, y, kwargs[-count:]).reshape(shape)
    extent = (-half_width, half_width, -half_width, half_width)
    mass = subhalos.summary()[1]
    return [
        Panel(f"lens {lens}: convergence (log10)", np.log10(np.clip(total, 1e-3, None)), extent),
        Panel(
            f"its {count} subhalos, {mass:.2g} Msun (log10)",
            np.log10(np.clip(lumps, 1e-5, None)),
            extent,
            (subhalos.x, subhalos.y),
        ),
    ]
