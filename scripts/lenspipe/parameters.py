"""The sampled parameters of the lens system and their column names.

The system is an SIE lens with external shear, a Sersic lens light that shares the lens
centre, and a Sersic source placed at an offset from the lens centre. The column of parameter
``p`` of component ``c`` is ``f"{c}_{p}"`` (for example ``lens_theta_E``); columns keep the
order below in every array and table lenspipe writes.
"""

from collections.abc import Mapping
from typing import Any

COMPONENT_PARAMETERS: dict[str, tuple[str, ...]] = {
    "lens": ("theta_E", "e1", "e2", "center_x", "center_y"),
    "shear": ("gamma1", "gamma2"),
    "lens_light": ("magnitude", "R_sersic", "n_sersic", "e1", "e2"),
    "source": ("magnitude", "R_sersic", "n_sersic", "e1", "e2", "offset_x", "offset_y"),
}

LENS_MODEL_LIST = ["SIE", "SHEAR"]
LENS_LIGHT_MODEL_LIST = ["SERSIC_ELLIPSE"]
SOURCE_MODEL_LIST = ["SERSIC_ELLIPSE"]

PARAMETER_NAMES: tuple[str, ...] = tuple(
    f"{component}_{name}" for component, names in COMPONENT_PARAMETERS.items() for name in names
)


def lenstronomy_kwargs(values: Mapping[str, float]) -> dict[str, list[dict[str, Any]]]:
    """Translate one lens's parameter columns into lenstronomy keyword lists.

    Light amplitudes are still magnitudes here; ``SimAPI.magnitude2amplitude`` converts them.
    """
    center_x, center_y = values["lens_center_x"], values["lens_center_y"]
    kwargs_lens = [
        {
            "theta_E": values["lens_theta_E"],
            "e1": values["lens_e1"],
            "e2": values["lens_e2"],
            "center_x": center_x,
            "center_y": center_y,
        },
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
    kwargs_source_mag = [
        {
            "magnitude": values["source_magnitude"],
            "R_sersic": values["source_R_sersic"],
            "n_sersic": values["source_n_sersic"],
            "e1": values["source_e1"],
            "e2": values["source_e2"],
            "center_x": center_x + values["source_offset_x"],
            "center_y": center_y + values["source_offset_y"],
        }
    ]
    return {
        "kwargs_lens": kwargs_lens,
        "kwargs_lens_light_mag": kwargs_lens_light_mag,
        "kwargs_source_mag": kwargs_source_mag,
    }
