"""Magnitudes of each light component in each imaged band.

The magnitude priors are magnitudes in the reference band ``observation.band``. A component's
magnitude in band ``b`` is that magnitude plus ``colours[component][b]`` minus
``colours[component][reference band]``, so a colour table may be given relative to any band.
"""

import copy
from collections.abc import Mapping
from typing import Any

# The keyword lists of lenstronomy_kwargs that carry magnitudes, and their colour component.
_MAGNITUDE_KWARGS = {
    "kwargs_lens_light_mag": "lens_light",
    "kwargs_source_mag": "source",
    "kwargs_ps_mag": "point_source",
}


def light_components(config: Mapping[str, Any]) -> list[str]:
    """The light components of the lens system: lens light, source and, if on, the quasar."""
    components = ["lens_light", "source"]
    if config["lens_system"]["point_source"]:
        components.append("point_source")
    return components


def colour_offsets(config: Mapping[str, Any], imaged: list[str]) -> list[dict[str, float]]:
    """Per band of ``imaged``, each light component's magnitude offset from the reference band."""
    if len(imaged) == 1:
        return [{}]
    reference = config["observation"]["band"]
    colours = config["colours"]
    return [
        {
            component: colours[component][band] - colours[component][reference]
            for component in light_components(config)
        }
        for band in imaged
    ]


def in_band(kwargs: dict[str, Any], offsets: Mapping[str, float]) -> dict[str, Any]:
    """The magnitude keyword lists of ``kwargs`` shifted by one band's colour ``offsets``.

    Returns ``kwargs`` itself when every offset is zero (the reference band).
    """
    if not any(offsets.values()):
        return kwargs
    shifted = dict(kwargs)
    for key, component in _MAGNITUDE_KWARGS.items():
        if kwargs[key] is not None:
            shifted[key] = copy.deepcopy(kwargs[key])
            for profile in shifted[key]:
                profile["magnitude"] += offsets.get(component, 0.0)
    return shifted
