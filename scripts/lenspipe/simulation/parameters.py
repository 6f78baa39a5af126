"""The columns of the parameter table and the lenstronomy keywords of one lens.

The default system is an SIE lens with external shear, a Sersic lens light that shares the lens
centre, and a Sersic source placed at an offset from the lens centre. The column of parameter
``p`` of component ``c`` is ``f"{c}_{p}"`` (for example ``lens_theta_E``).

Columns come in a fixed order: the 21 parameters of the default system, then the sampled
parameters that the ``lens_system`` switches add (``lens_gamma`` for the EPL mass, the
redshifts, the quasar magnitude), then the columns measured on each simulated lens (the
quasar's images, their time delays when redshifts are sampled, the lensing-cut measures, and
the subhalos' count and mass, the catalogue source's stamp). The default config therefore has
exactly the columns, and draws exactly the numbers, it always had. ``lenspipe.settings`` lists
the columns of a config (``SimulationSettings.columns``).
"""

from collections.abc import Mapping
from typing import Any

BASE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "lens": ("theta_E", "e1", "e2", "center_x", "center_y"),
    "shear": ("gamma1", "gamma2"),
    "lens_light": ("magnitude", "R_sersic", "n_sersic", "e1", "e2"),
    "source": ("magnitude", "R_sersic", "n_sersic", "e1", "e2", "offset_x", "offset_y"),
}

MAX_IMAGES = 4
"""Image columns per quasar; lenses with fewer images have NaN in the rest."""

LENS_LIGHT_MODEL_LIST = ["SERSIC_ELLIPSE"]
SOURCE_MODEL_LIST = ["SERSIC_ELLIPSE"]
POINT_SOURCE_MODEL_LIST = ["SOURCE_POSITION"]


def image_columns() -> list[str]:
    """Columns of a quasar's images: count, then x, y and magnification of images 1..4."""
    return ["point_source_n_images"] + [
        f"point_source_{quantity}_{image}"
        for quantity in ("x", "y", "magnification")
        for image in range(1, MAX_IMAGES + 1)
    ]


def time_delay_columns() -> list[str]:
    """Columns of a quasar's time delays: days after image 1, for images 1..4."""
    return [f"point_source_time_delay_{image}" for image in range(1, MAX_IMAGES + 1)]


def padded_columns() -> list[str]:
    """Columns that hold NaN where a quasar has fewer than MAX_IMAGES images."""
    return image_columns()[1:] + time_delay_columns()


CUT_COLUMNS = ["source_magnification", "arc_snr", "rejected_draws"]
"""Columns of the lensing cut: what it measured on the kept lens, and the draws it rejected."""
SUBHALO_COLUMNS = ["subhalo_count", "subhalo_mass_total"]
"""Columns of the subhalo summary (lens_system.subhalos): how many, and the sum of their M200
in solar masses."""


def lenstronomy_kwargs(values: Mapping[str, float]) -> dict[str, list[dict[str, Any]]]:
    """Translate one lens's parameter columns into lenstronomy keyword lists.

    Light amplitudes are still magnitudes here; ``SimAPI.magnitude2amplitude`` converts them.
    A ``lens_gamma`` column makes the mass an EPL; a ``point_source_magnitude`` column adds a
    quasar at the centre of the source light.
    """
    center_x, center_y = values["lens_center_x"], values["lens_center_y"]
    mass = {
        "theta_E": values["lens_theta_E"],
        "e1": values["lens_e1"],
        "e2": values["lens_e2"],
        "center_x": center_x,
        "center_y": center_y,
    }
    if "lens_gamma" in values:
        mass["gamma"] = values["lens_gamma"]
    kwargs_lens = [
        mass,
        {
            "gamma1": values["shear_gamma1"],
            "gamma2": values["shear_gamma2"],
            "ra_0": center_x,
            "dec_0": center_y,
        },
    ]
    kwargs_lens_light_mag = [
        {
            "magnitude": values["lens_light_magnitude"],
            "R_sersic": values["lens_light_R_sersic"],
            "n_sersic": values["lens_light_n_sersic"],
            "e1": values["lens_light_e1"],
            "e2": values["lens_light_e2"],
            "center_x": center_x,
            "center_y": center_y,
        }
    ]
    source_x = center_x + values["source_offset_x"]
    source_y = center_y + values["source_offset_y"]
    kwargs_source_mag = [
        {
            "magnitude": values["source_magnitude"],
            "R_sersic": values["source_R_sersic"],
            "n_sersic": values["source_n_sersic"],
            "e1": values["source_e1"],
            "e2": values["source_e2"],
            "center_x": source_x,
            "center_y": source_y,
        }
    ]
    kwargs = {
        "kwargs_lens": kwargs_lens,
        "kwargs_lens_light_mag": kwargs_lens_light_mag,
        "kwargs_source_mag": kwargs_source_mag,
        "kwargs_ps_mag": None,
    }
    if "point_source_magnitude" in values:
        kwargs["kwargs_ps_mag"] = [
            {
                "magnitude": values["point_source_magnitude"],
                "ra_source": source_x,
                "dec_source": source_y,
            }
        ]
    return kwargs
