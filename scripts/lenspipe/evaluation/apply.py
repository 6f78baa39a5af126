"""A run's trained model applied to images from outside its store: another simulator's mocks,
a colleague's, or cutouts of real data (``python -m lenspipe predict``, which finds the run's
files with ``lenspipe.runs.predict_run``).

The images must be what the run's store holds: counts per second per pixel, on the run's
pixel grid (``image.num_pix`` pixels of its survey's pixel scale, north up and east left as
lenstronomy renders them), with the run's bands in its order. ``read_images`` checks their
shape and values before anything is predicted; ``predict_images`` scales them with the run's
normalisation (fit on its training subset), predicts exactly as the test subset is predicted
(averaged over the 8 flips and rotations for a model trained with augmentation) and applies
the run's calibration. Nothing here can tell whether the images look like the training
images: a network asked about a kind of lens it never saw still answers, so test such a
sample first (``evaluation.independent_tests`` shows how far the answers move under a
change of survey or priors).
"""

from pathlib import Path

import numpy as np
import pandas as pd
from lenspipe.data.normalise import load_normalisation
from lenspipe.evaluation.calibration import load_calibration
from lenspipe.evaluation.uncertainty import COVERAGE_LEVELS, half_width

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz")


class ImageBatches:
    """Consecutive batches of already scaled images, as ``predict_physical`` reads them."""

    def __init__(self, images: np.ndarray, batch_size: int):
        self._images = images
        self._batch_size = batch_size

    def __len__(self) -> int:
        return -(-len(self._images) // self._batch_size)

    def batch(self, batch: int) -> tuple[np.ndarray, None]:
        """The scaled images of batch number ``batch`` (and no targets)."""
        start = batch * self._batch_size
        return self._images[start : start + self._batch_size], None


def _load(path: Path) -> np.ndarray:
    """The array in a .npy or FITS file; ValueError naming the file if it is neither."""
    name = path.name.lower()
    try:
        if name.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        if name.endswith(FITS_SUFFIXES):
            from astropy.io import fits

            return np.asarray(fits.getdata(path))  # the first HDU with data
    except (OSError, ValueError, IndexError) as error:  # IndexError: no HDU has data
        raise ValueError(f"{path}: cannot read images from it ({error})") from None
    raise ValueError(f"{path}: unknown file type; expected a .npy or FITS file of images")


def image_count(path: str | Path, image_shape: tuple[int, int, int]) -> int:
    """How many images of the run's ``image_shape`` a .npy or FITS file holds, from its
    header alone (without reading the pixels, which ``read_images`` checks). Raises
    ValueError naming the file for a missing or unreadable file or another shape."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file; expected a .npy or FITS file of images")
    name = path.name.lower()
    try:
        if name.endswith(".npy"):
            shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
        elif name.endswith(FITS_SUFFIXES):
            from astropy.io import fits

            with fits.open(path) as hdus:
                shape = next(hdu.shape for hdu in hdus if hdu.header.get("NAXIS", 0) > 0)
        else:
            raise ValueError("unknown file type; expected a .npy or FITS file of images")
    except (OSError, ValueError, StopIteration) as error:
        raise ValueError(f"{path}: cannot read images from it ({error or 'no data'})") from None
    height, width, bands = image_shape
    if shape in ((height, width), (height, width, bands)) and (len(shape) == 2) == (bands == 1):
        return 1
    if len(shape) == 3 and bands == 1 and shape[1:] == (height, width):
        return shape[0]
    if len(shape) == 4 and shape[1:] == tuple(image_shape):
        return shape[0]
    raise ValueError(
        f"{path}: images of shape {shape}; expected (N, {height}, {width}"
        + (")" if bands == 1 else f", {bands})")
        + f": the run's {height}x{width} pixels and {bands} band(s)"
    )


def read_images(path: str | Path, image_shape: tuple[int, int, int]) -> np.ndarray:
    """The images of a .npy or FITS file as float32 (N, H, W, bands), checked against the
    run's ``image_shape`` (H, W, bands): one image (H, W) or several (N, H, W) for one band,
    (N, H, W, bands) for any number. Raises ValueError naming the file for a missing or
    unreadable file, another shape, or pixels that are NaN or infinite."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file; expected a .npy or FITS file of images")
    images = _load(path)
    if not np.issubdtype(images.dtype, np.number) or np.iscomplexobj(images):
        raise ValueError(f"{path}: images of type {images.dtype}; expected real numbers")
    shape = images.shape
    height, width, bands = image_shape
    if images.ndim == 2 or images.ndim == 3 and bands > 1:
        images = images[np.newaxis]  # one image
    if images.ndim == 3:
        images = images[..., np.newaxis]  # N images of the one band
    if images.shape[1:] != tuple(image_shape) or len(images) == 0:
        one_band = f"(N, {height}, {width}) or " if bands == 1 else ""
        raise ValueError(
            f"{path}: images of shape {shape}; expected {one_band}(N, {height}, {width}, "
            f"{bands}) with N >= 1: the run's {height}x{width} pixels and {bands} band(s)"
        )
    with np.errstate(over="ignore"):
        images = images.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(images).all(axis=(1, 2, 3)))
    if bad.size:
        raise ValueError(
            f"{path}: image {bad[0]} has NaN or infinite pixels (or beyond float32)"
            + (f" (and {bad.size - 1} other images)" if bad.size > 1 else "")
            + "; expected finite counts per second"
        )
    return images


def predict_images(
    images: np.ndarray,
    model_path: str | Path,
    normalisation_path: str | Path,
    store_path: str | Path,
    batch_size: int,
    augment: bool,
    calibration_path: str | Path | None = None,
) -> pd.DataFrame:
    """The model's prediction for each of ``images`` (N, H, W, bands), in physical units.

    One row per image (``image``: its position in ``images``), and for each target
    ``pred_<name>``; for a model with uncertainties, given its ``calibration_path``, also
    ``sigma_<name>`` (the half-width of the 68 % interval) and ``half_width_95_<name>``.
    The store gives the pixel grid of the flips and rotations averaged over when ``augment``.
    """
    from lenspipe.evaluation.evaluate import averaging_matrices, predict_physical
    from lenspipe.learning.model import load_trained_model

    normalisation = load_normalisation(normalisation_path)
    calibration = (
        None
        if calibration_path is None
        else load_calibration(calibration_path, normalisation.targets)
    )
    mean, sigma, _ = predict_physical(
        load_trained_model(model_path),
        ImageBatches(normalisation.image.transform(images), batch_size),
        normalisation,
        None if calibration is None else calibration.sigma_scales,
        averaging_matrices(store_path, augment),
    )
    columns: dict[str, np.ndarray] = {"image": np.arange(len(images))}
    for k, name in enumerate(normalisation.targets):
        columns[f"pred_{name}"] = mean[:, k]
        if sigma is not None and calibration is not None:
            columns[f"sigma_{name}"] = sigma[:, k]
            wide = half_width(COVERAGE_LEVELS[1], calibration.tail_dof[k])
            columns[f"half_width_95_{name}"] = sigma[:, k] * wide
    return pd.DataFrame(columns)
