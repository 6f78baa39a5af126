"""A lensed quasar: lenstronomy's SOURCE_POSITION point source and its image columns.

The lens equation is solved once per lens with lenstronomy's analytical solver for
power-law-plus-shear lenses (exact for SIE and EPL; much faster than the general solver), and
the solution is cached in one PointSource object that every band's ImageModel shares, so each
band renders the same images without solving again. Images magnified less than
``MAGNIFICATION_LIMIT`` in absolute value (the central image of a power law, which the
analytical solver also returns) are dropped, as lenstronomy's documentation advises.
"""

from typing import Any

import numpy as np
from lenspipe.simulation.parameters import MAX_IMAGES, POINT_SOURCE_MODEL_LIST

MAGNIFICATION_LIMIT = 0.1


def shared_point_source(lens_model: Any) -> Any:
    """A PointSource for one quasar that keeps its images until ``solve`` is called again."""
    from lenstronomy.PointSource.point_source import PointSource

    return PointSource(
        POINT_SOURCE_MODEL_LIST,
        lens_model=lens_model,
        fixed_magnification_list=[True],
        magnification_limit=MAGNIFICATION_LIMIT,
        save_cache=True,
        kwargs_lens_eqn_solver={"solver": "analytical"},
    )


def solve(
    point_source: Any, lens_model: Any, kwargs_ps: list[dict], kwargs_lens: list[dict]
) -> np.ndarray:
    """Solve the lens equation for one lens and return its image columns.

    Returns [count, x_1..x_4, y_1..y_4, magnification_1..magnification_4] (see
    ``parameters.image_columns``): images in order of arrival time, NaN past the last.
    """
    point_source.delete_lens_model_cache()
    x_images, y_images = point_source.image_position(kwargs_ps, kwargs_lens)
    x, y = x_images[0][:MAX_IMAGES], y_images[0][:MAX_IMAGES]
    magnification = lens_model.magnification(x, y, kwargs_lens)
    columns = np.full(1 + 3 * MAX_IMAGES, np.nan)
    columns[0] = len(x_images[0])
    for quantity, values in enumerate((x, y, magnification)):
        start = 1 + quantity * MAX_IMAGES
        columns[start : start + len(values)] = values
    return columns


def time_delays(
    lens_model: Any,
    columns: np.ndarray,
    kwargs_lens: list[dict],
    source: tuple[float, float],
    redshifts: tuple[float, float],
    cosmology: Any,
) -> np.ndarray:
    """Days by which each image of ``columns`` (from ``solve``) arrives after image 1.

    The Fermat potential of each image times the time-delay distance of the lens and source
    ``redshifts`` in ``cosmology`` (lenstronomy's LensCosmo); NaN past the last image.
    """
    from lenstronomy.Cosmo.lens_cosmo import LensCosmo

    x, y = columns[1 : 1 + MAX_IMAGES], columns[1 + MAX_IMAGES : 1 + 2 * MAX_IMAGES]
    shown = ~np.isnan(x)
    delays = np.full(MAX_IMAGES, np.nan)
    if not shown.any():
        return delays
    fermat = lens_model.fermat_potential(x[shown], y[shown], kwargs_lens, *source)
    lens_cosmo = LensCosmo(*redshifts, cosmo=cosmology)
    delays[shown] = lens_cosmo.time_delay_units(fermat - fermat[0])
    return delays
