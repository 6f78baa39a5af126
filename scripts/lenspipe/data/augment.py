"""Augmentation that respects the physics: the 8 flips and 90-degree rotations of an image,
with the matching transformation of its parameters.

Transform ``t`` in 0..7 flips the columns of the image when ``t >= 4`` and then rotates it by
``t % 4`` quarter turns (``numpy.rot90`` over the pixel axes). A square pixel grid centred on
the optical axis maps onto itself, so the transformed image is exactly the image of a rotated
or mirrored sky. What that does to the sky follows from lenstronomy's pixel-to-angle matrix
``A`` (``ImageData.transform_pix2angle``, ra and dec per pixel step in x = column and
y = row): an array operation that moves pixel offsets by ``P`` moves sky positions by
``M = A P A^-1``. Then, with ``z = ra + i dec`` and an ellipticity or shear
``eps = e1 + i e2`` (lenstronomy's convention: e1 + i e2 = e exp(2i phi), phi measured from
the ra axis towards dec), a rotation by alpha maps ``z -> exp(i alpha) z`` and
``eps -> exp(2i alpha) eps``; a mirror ``M = R(alpha) diag(1, -1)`` maps
``z -> exp(i alpha) conj(z)`` and ``eps -> exp(2i alpha) conj(eps)``. Every other column
(Einstein radius, slope, magnitudes, Sersic radii and indices, redshifts, magnifications,
time delays, the lensing-cut measures) is unchanged.
"""

import functools

import numpy as np

N_TRANSFORMS = 8

_SPIN2 = ("e1", "e2")
_SHEAR = ("gamma1", "gamma2")


def transform_image(images: np.ndarray, transform: int) -> np.ndarray:
    """Apply dihedral ``transform`` to images (..., H, W, bands) over their pixel axes."""
    axes = (images.ndim - 3, images.ndim - 2)
    if transform >= 4:
        images = np.flip(images, axis=axes[1])
    return np.rot90(images, transform % 4, axes=axes)


def pixel_matrix(transform: int) -> np.ndarray:
    """2x2 matrix that maps a pixel offset (x = column, y = row) to its new place."""
    offsets = np.arange(3) - 1.0
    x, y = np.meshgrid(offsets, offsets)  # x varies along columns, y along rows
    old = np.stack([transform_image(grid[..., None], transform)[..., 0] for grid in (x, y)])
    # The new pixel at offset (1, 0) is row 1, column 2; at (0, 1) it is row 2, column 1.
    inverse = np.column_stack([old[:, 1, 2], old[:, 2, 1]])
    return np.rint(np.linalg.inv(inverse)) + 0.0  # + 0.0 turns -0.0 into 0.0


def sky_matrix(transform: int, pix2angle: np.ndarray) -> np.ndarray:
    """2x2 matrix that maps (ra, dec) to the position the transformed image shows it at."""
    pix2angle = np.asarray(pix2angle, dtype=np.float64)
    return pix2angle @ pixel_matrix(transform) @ np.linalg.inv(pix2angle)


_PAIRS = {"_x": ("_y", 0, 1), "_y": ("_x", 1, 1), "_e1": ("_e2", 0, 2), "_e2": ("_e1", 1, 2)}
_PAIRS |= {"_gamma1": ("_gamma2", 0, 2), "_gamma2": ("_gamma1", 1, 2)}


@functools.cache
def _pair(name: str) -> tuple[str, int, int] | None:
    """(partner column, 0 for the x/e1/gamma1 half or 1, spin) of a pair column, else None.

    Pairs: ``*_x``/``*_y`` positions (spin 1, also numbered, as ``point_source_x_1``),
    ``*_e1``/``*_e2`` ellipticities and ``*_gamma1``/``*_gamma2`` shears (spin 2).
    """
    stem, _, number = name.rpartition("_")
    numbered = number.isdigit() and not name.endswith(("_e1", "_e2", "_gamma1", "_gamma2"))
    base, tail = (stem, f"_{number}") if numbered else (name, "")
    for suffix, (other, member, spin) in _PAIRS.items():
        if base.endswith(suffix):
            return base[: -len(suffix)] + other + tail, member, spin
    return None


def with_partners(names: list[str]) -> list[str]:
    """``names`` followed by the partners of its pair columns that it lacks."""
    missing = [pair[0] for pair in map(_pair, names) if pair and pair[0] not in names]
    return [*names, *dict.fromkeys(missing)]


def transform_parameters(values: np.ndarray, names: list[str], matrix: np.ndarray) -> np.ndarray:
    """Parameters (N, P) with columns ``names`` as the sky transformed by ``matrix`` has them.

    Raises ValueError when a pair column comes without its partner.
    """
    values = np.array(values, dtype=np.float64, copy=True)
    index = {name: column for column, name in enumerate(names)}
    alpha = np.arctan2(matrix[1, 0], matrix[0, 0])
    mirrored = np.linalg.det(matrix) < 0
    for name in names:
        pair = _pair(name)
        if pair is None:
            continue
        partner, member, spin = pair
        if partner not in index:
            raise ValueError(f"column {name!r} cannot be transformed without {partner!r}")
        if member == 1:
            continue
        z = values[:, index[name]] + 1j * values[:, index[partner]]
        z = np.exp(1j * spin * alpha) * (np.conj(z) if mirrored else z)
        values[:, index[name]], values[:, index[partner]] = z.real, z.imag
    return values
