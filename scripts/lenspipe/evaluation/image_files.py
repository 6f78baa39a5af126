"""Images from outside a run, read from .npy and FITS files and checked against the run.

The layouts a file may hold, for a run of H x W pixels and B bands:

- one image (H, W) (one band), or (H, W, B);
- N images (N, H, W) (one band), or (N, H, W, B);
- with ``band_axis="first"``, the bands before the pixels: (B, H, W) or (N, B, H, W), as FITS
  cubes usually are.

A FITS file's image extensions with data are all read (the primary HDU's and every image or
tile-compressed extension's, ``.fits.fz`` included), stacked along a first axis when there are
several: each extension one image of (H, W), or a stack of them, or with
``band_axis="first"`` one band each. Extensions of different shapes are refused, naming them.
"""

from pathlib import Path

import numpy as np

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fits.fz", ".fz")
BAND_AXES = ("last", "first")
"""Where the bands are in a file's array: after the pixels (lenspipe's order) or before."""


def _fits_shapes(hdus) -> list[tuple[int, str, tuple[int, ...]]]:
    """(index, name, shape) of each image HDU with data; its name is its EXTNAME (with its
    EXTVER, if any), else its index."""
    shapes = []
    for index, hdu in enumerate(hdus):
        if getattr(hdu, "is_image", False) and hdu.header.get("NAXIS", 0) > 0:
            name = hdu.header.get("EXTNAME") or str(index)
            if hdu.header.get("EXTVER") is not None and hdu.header.get("EXTNAME"):
                name += f",{hdu.header['EXTVER']}"
            shapes.append((index, name, tuple(hdu.shape)))
    return shapes


def _stacked_shape(shapes: list[tuple[int, str, tuple[int, ...]]]) -> tuple[int, ...]:
    """The shape of a FITS file's image extensions stacked along a first axis."""
    if not shapes:
        raise ValueError("no image extension holds data")
    if len({shape for _, _, shape in shapes}) > 1:
        listed = ", ".join(f"{name}: {shape}" for _, name, shape in shapes)
        raise ValueError(
            f"image extensions of different shapes ({listed}); expected extensions of one "
            "shape, each an image, a stack of images or a band"
        )
    shape = shapes[0][2]
    return shape if len(shapes) == 1 else (len(shapes), *shape)


def _fits_array(path: Path) -> np.ndarray:
    from astropy.io import fits

    with fits.open(path) as hdus:
        shapes = _fits_shapes(hdus)
        _stacked_shape(shapes)
        arrays = [np.asarray(hdus[index].data) for index, _, _ in shapes]
    return arrays[0] if len(arrays) == 1 else np.stack(arrays)


def _npy_array(path: Path, header_only: bool) -> np.ndarray:
    array = np.load(path, allow_pickle=False, mmap_mode="r" if header_only else None)
    if not isinstance(array, np.ndarray):  # an .npz archive under a .npy name
        names = ", ".join(array.files)
        array.close()
        raise ValueError(
            f"an .npz archive of arrays ({names}) under a .npy name; expected one array "
            "saved with numpy.save"
        )
    return array


def _read(path: Path, header_only: bool) -> np.ndarray | tuple[int, ...]:
    """The array of a .npy or FITS file, or only its shape; ValueError naming the file if it
    cannot be read as one."""
    name = path.name.lower()
    if not path.is_file():
        raise ValueError(f"{path}: no such file; expected a .npy or FITS file of images")
    try:
        if name.endswith(".npy"):
            array = _npy_array(path, header_only)
            return array.shape if header_only else array
        if name.endswith(FITS_SUFFIXES):
            if header_only:
                from astropy.io import fits

                with fits.open(path) as hdus:
                    return _stacked_shape(_fits_shapes(hdus))
            return _fits_array(path)
    except (OSError, ValueError, EOFError, IndexError, KeyError) as error:
        reason = str(error) or type(error).__name__
        if isinstance(error, EOFError) or path.stat().st_size == 0:
            reason = f"empty or truncated ({path.stat().st_size} bytes)"
        raise ValueError(f"{path}: cannot read images from it: {reason}") from None
    raise ValueError(f"{path}: unknown file type; expected a .npy or FITS file of images")


def _bands_last(shape: tuple[int, ...], band_axis: str) -> tuple[int, ...]:
    """``shape`` with the band axis of a (B, H, W) or (N, B, H, W) array moved last."""
    if band_axis == "last" or len(shape) < 3:
        return shape
    lead = len(shape) - 3
    return (*shape[:lead], *shape[lead + 1 :], shape[lead])


def _images_shape(
    path: Path, shape: tuple[int, ...], image_shape: tuple[int, int, int], band_axis: str
) -> tuple[int, ...]:
    """The (N, H, W, B) shape a file's array of ``shape`` is read as; ValueError naming the
    file and the layouts it may have, if none fits the run's ``image_shape``."""
    if band_axis not in BAND_AXES:
        raise ValueError(f"band axis {band_axis!r}: expected one of {', '.join(BAND_AXES)}")
    height, width, bands = image_shape
    moved = _bands_last(shape, band_axis)
    if len(moved) == 2 or len(moved) == 3 and (bands > 1 or band_axis == "first"):
        moved = (1, *moved)  # one image
    if len(moved) == 3:
        moved = (*moved, 1)  # N images of the one band
    if moved[1:] == tuple(image_shape) and moved[0] >= 1:
        return moved
    if band_axis == "first":
        expected = f"({bands}, {height}, {width}) or (N, {bands}, {height}, {width})"
    else:
        one_band = f"(N, {height}, {width}) or " if bands == 1 else ""
        expected = f"{one_band}(N, {height}, {width}, {bands})"
    raise ValueError(
        f"{path}: images of shape {shape}; expected {expected} with N >= 1: the run's "
        f"{height}x{width} pixels and {bands} band(s)"
        + ("" if band_axis == "first" else "; pass the band axis if the bands come first")
    )


def image_count(
    path: str | Path, image_shape: tuple[int, int, int], band_axis: str = "last"
) -> int:
    """How many images of the run's ``image_shape`` a .npy or FITS file holds, from its
    header alone (without reading the pixels, which ``read_images`` checks). Raises
    ValueError naming the file for a missing or unreadable file or another shape."""
    path = Path(path)
    return _images_shape(path, _read(path, header_only=True), image_shape, band_axis)[0]


def read_images(
    path: str | Path, image_shape: tuple[int, int, int], band_axis: str = "last"
) -> np.ndarray:
    """The images of a .npy or FITS file as float32 (N, H, W, bands), checked against the
    run's ``image_shape`` (H, W, bands); the layouts are the module's. Raises ValueError
    naming the file for a missing or unreadable file, another shape, or pixels that are NaN
    or infinite."""
    path = Path(path)
    array = _read(path, header_only=False)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f"{path}: images of type {array.dtype}; expected real numbers")
    shape = _images_shape(path, array.shape, image_shape, band_axis)
    if band_axis == "first" and array.ndim >= 3:
        array = np.moveaxis(array, array.ndim - 3, -1)
    with np.errstate(over="ignore"):
        images = array.reshape(shape).astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(images).all(axis=(1, 2, 3)))
    if bad.size:
        raise ValueError(
            f"{path}: image {bad[0]} has NaN or infinite pixels (or beyond float32)"
            + (f" (and {bad.size - 1} other images)" if bad.size > 1 else "")
            + "; expected finite counts per second"
        )
    return images
