"""Magnitudes of each light component in each imaged band.

The magnitude priors are magnitudes in the reference band ``observation.band``. A component's
magnitude in band ``b`` is that magnitude plus ``colours[component][b]`` minus
``colours[component][reference band]``, so a colour table may be given relative to any band.
"""

import copy
from collections.abc import Mapping, Sequence
from typing import Any

# The keyword lists of lenstronomy_kwargs that carry magnitudes, and their colour component.
_MAGNITUDE_KWARGS = {
    "kwargs_lens_light_mag": "lens_light",
    "kwargs_source_mag": "source",
    "kwargs_ps_mag": "point_source",
}


def colour_offsets(
    colours: Mapping[str, Mapping[str, float]],
    reference: str,
    imaged: Sequence[str],
    components: Sequence[str],
) -> list[dict[str, float]]:
    """Per band of ``imaged``, each light component's magnitude offset from the ``reference``
    band, by the ``colours`` table."""
    if len(imaged) == 1:
        return [{}]
    return [
        {
            component: colours[component][band] - colours[component][reference]
            for component in components
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
