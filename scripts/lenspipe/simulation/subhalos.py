"""Dark-matter subhalos of the main deflector: a documented simple population model.

Per lens, the number of subhalos is Poisson with mean ``mean_count``; each subhalo's mass
M200 (solar masses) follows dN/dM ∝ M^-slope between the two ends of ``mass_range``; the
subhalos sit uniformly in a disc of ``radius_in_einstein_radii`` × θE around the lens centre
(in projection, where they perturb the arcs). Each is a truncated NFW halo (lenstronomy's
``TNFW``) of concentration ``concentration``, truncated at ``truncation_in_scale_radii`` ×
its scale radius, its mass converted to angles at the lens's own redshifts and the run's
cosmology (``lens_system.cosmology``).

Every draw comes from the stream ``(SUBHALOS, lens, draw)``, apart from the lens's own: the
smooth lens, its light and its noise are those of the same run without subhalos, and a lens's
subhalos depend only on the seed and its index, never on the chunking.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from lenspipe import seeding
from lenspipe.settings import SubhaloModel

SUBHALO_PROFILE = "TNFW"


@dataclass
class Subhalos:
    """The subhalos of one lens: M200 (solar masses) and position (arcsec) of each."""

    masses: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def summary(self) -> list[float]:
        """The values of ``lenspipe.simulation.parameters.SUBHALO_COLUMNS``."""
        return [float(len(self.masses)), float(self.masses.sum())]


def draw_subhalos(
    model: SubhaloModel,
    seed: int,
    lens_index: int,
    draw: int,
    theta_e: float,
    center: tuple[float, float],
) -> Subhalos:
    """The subhalos of draw ``draw`` of lens ``lens_index`` under population ``model``,
    around a lens of Einstein radius ``theta_e`` at ``center``."""
    rng = seeding.stream(seed, seeding.SUBHALOS, lens_index, draw)
    count = rng.poisson(model.mean_count)
    low, high = model.mass_range
    power = 1.0 - model.mass_slope
    unit = rng.random(count)
    if abs(power) < 1e-12:
        masses = low * (high / low) ** unit
    else:
        masses = (low**power + unit * (high**power - low**power)) ** (1.0 / power)
    radius = model.radius_in_einstein_radii * theta_e * np.sqrt(rng.random(count))
    angle = 2 * np.pi * rng.random(count)
    return Subhalos(masses, center[0] + radius * np.cos(angle), center[1] + radius * np.sin(angle))


def subhalo_kwargs(
    subhalos: Subhalos, model: SubhaloModel, redshifts: tuple[float, float], cosmology: Any
) -> list[dict[str, float]]:
    """lenstronomy ``TNFW`` keywords of each subhalo at lens and source ``redshifts`` in
    ``cosmology`` (an astropy cosmology: build it once, it is slow to make)."""
    from lenstronomy.Cosmo.lens_cosmo import LensCosmo

    lens_cosmo = LensCosmo(*redshifts, cosmo=cosmology)
    kwargs = []
    for mass, x, y in zip(subhalos.masses, subhalos.x, subhalos.y):
        scale_radius, alpha = lens_cosmo.nfw_physical2angle(mass, model.concentration)
        kwargs.append(
            {
                "Rs": float(scale_radius),
                "alpha_Rs": float(alpha),
                "r_trunc": float(model.truncation_in_scale_radii * scale_radius),
                "center_x": float(x),
                "center_y": float(y),
            }
        )
    return kwargs
