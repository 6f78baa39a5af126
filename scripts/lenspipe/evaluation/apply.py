"""A run's trained model applied to images from outside its store: another simulator's mocks,
a colleague's, or cutouts of real data (``python -m lenspipe predict``, which finds the run's
files with ``lenspipe.runs.predict_run``).

The images must be what the run's store holds: counts per second per pixel, on the run's
pixel grid (``image.num_pix`` pixels of its survey's pixel scale, north up and east left as
lenstronomy renders them), with the run's bands in its order.
``lenspipe.evaluation.image_files.read_images`` checks their shape and values before anything
is predicted; ``predict_images`` scales them with the run's
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
