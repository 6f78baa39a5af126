"""Predictions in physical units, the calibration of their uncertainties, and the evaluation on
the test subset.

Every prediction goes through ``predict_physical``: the network's scaled outputs back to
physical units, each standard deviation multiplied by its target's calibration factor
(``lenspipe.evaluation.calibration``, fit on the validation subset after training, which also
gives each target's error distribution its tails), and, for a model
trained on flipped and rotated images (``training.augment``), the average over the 8 flips and
rotations of each image (test-time augmentation): each transformed image's prediction is
transformed back, and the mean of the 8 is taken, with a variance that adds the spread of the
8 means to their mean variance.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path, write_json
from lenspipe.data.augment import N_TRANSFORMS, sky_matrix, transform_image, transform_parameters
from lenspipe.data.dataset import LensBatches
from lenspipe.data.normalise import Normalisation, load_normalisation, load_split
from lenspipe.data.store import open_store, read_parameters, store_pix2angle
from lenspipe.evaluation.calibration import load_calibration, save_calibration
from lenspipe.evaluation.metrics import metrics_with_coverage
from lenspipe.evaluation.plots import plot_gallery, plot_predicted_vs_true, plot_residuals
from lenspipe.evaluation.predictions import write_predictions
from lenspipe.learning.losses import split_prediction
from lenspipe.learning.model import load_trained_model


def _to_physical(
    scaled: np.ndarray, normalisation: Normalisation
) -> tuple[np.ndarray, np.ndarray | None]:
    """Network outputs (N, k or 2k) to means and standard deviations in physical units."""
    k = len(normalisation.targets)
    if scaled.shape[1] == k:
        return normalisation.inverse_targets(scaled), None
    mean, sigma = split_prediction(scaled, k)
    return normalisation.inverse_targets(mean), normalisation.inverse_sigma(sigma)


def _predict_transformed(
    model: keras.Model,
    images: np.ndarray,
    normalisation: Normalisation,
    sky_matrices: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray | None]:
    """The average prediction over the transforms of ``images`` (test-time augmentation)."""
    names = normalisation.targets
    means, variances = [], []
    for transform, matrix in enumerate(sky_matrices):
        transformed = np.ascontiguousarray(transform_image(images, transform))
        mean, sigma = _to_physical(model.predict_on_batch(transformed), normalisation)
        back = np.linalg.inv(matrix)
        means.append(transform_parameters(mean, names, back))
        if sigma is not None:
            # The transforms permute and negate the pair columns: sigma moves with its value.
            variances.append(np.square(transform_parameters(sigma, names, back)))
    mean = np.mean(means, axis=0)
    if not variances:
        return mean, None
    return mean, np.sqrt(np.mean(variances, axis=0) + np.var(means, axis=0))


def predict_physical(
    model: keras.Model,
    batches: LensBatches,
    normalisation: Normalisation,
    sigma_scales: np.ndarray | None = None,
    sky_matrices: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Predict every batch in order: the targets (N, k) and their standard deviations (N, k,
    or None for a model without uncertainties) in physical units, and the seconds per lens.

    ``sigma_scales`` (k) multiply the standard deviations (the calibration); with
    ``sky_matrices`` (``averaging_matrices``) each prediction averages the 8 flips and
    rotations of its image.
    """
    started = time.perf_counter()
    means, sigmas = [], []
    for batch in range(len(batches)):
        images, _ = batches.batch(batch)
        if sky_matrices is None:
            mean, sigma = _to_physical(model.predict_on_batch(images), normalisation)
        else:
            mean, sigma = _predict_transformed(model, images, normalisation, sky_matrices)
        means.append(mean)
        sigmas.append(sigma)
    mean = np.concatenate(means)
    seconds_per_lens = (time.perf_counter() - started) / len(mean)
    if sigmas[0] is None:
        return mean, None, seconds_per_lens
    sigma = np.concatenate(sigmas)
    return mean, sigma if sigma_scales is None else sigma * sigma_scales, seconds_per_lens


def averaging_matrices(store_path: str | Path, augment: bool) -> list[np.ndarray] | None:
    """The sky matrices of the 8 transforms for a model trained with ``augment``, else None."""
    if not augment:
        return None
    pix2angle = store_pix2angle(store_path)
    return [sky_matrix(transform, pix2angle) for transform in range(N_TRANSFORMS)]


@dataclass
class TestPredictions:
    """A model's predictions on the test subset, in physical units, beside the truth.

    ``tail_dof`` (k) are the Student-t degrees of freedom of each target's errors
    (``lenspipe.evaluation.uncertainty``; inf for a Gaussian), None when no calibration was
    applied or the model has no uncertainties.
    """

    lens_indices: np.ndarray
    names: list[str]
    truth: np.ndarray
    prediction: np.ndarray
    sigma: np.ndarray | None
    seconds_per_lens: float
    tail_dof: np.ndarray | None = None


def predict_lenses(
    store_path: str | Path,
    normalisation_path: str | Path,
    model_path: str | Path,
    lenses: np.ndarray,
    batch_size: int,
    calibration_path: str | Path | None = None,
    augment: bool = False,
) -> TestPredictions:
    """Load the model and predict the lenses ``lenses`` of the store (in lens order), with
    the calibration of ``calibration_path`` if given, averaged over the 8 flips and rotations
    for a model trained with ``augment``."""
    lenses = np.sort(np.asarray(lenses))
    normalisation = load_normalisation(normalisation_path)
    model = load_trained_model(model_path)
    # One pass over the lenses: streamed, so the memory does not grow with their number.
    batches = LensBatches(store_path, lenses, normalisation, batch_size, read_into_memory=False)
    calibration = (
        None
        if calibration_path is None
        else load_calibration(calibration_path, normalisation.targets)
    )
    prediction, sigma, seconds_per_lens = predict_physical(
        model,
        batches,
        normalisation,
        None if calibration is None else calibration.sigma_scales,
        averaging_matrices(store_path, augment),
    )
    truth = read_parameters(open_store(store_path), normalisation.targets)[lenses]
    return TestPredictions(
        lenses,
        normalisation.targets,
        truth,
        prediction,
        sigma,
        seconds_per_lens,
        None if calibration is None else calibration.tail_dof,
    )


def predict_test_subset(
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    model_path: str | Path,
    batch_size: int,
    calibration_path: str | Path | None = None,
    augment: bool = False,
) -> TestPredictions:
    """Load the model and predict every test lens of the store (see ``predict_lenses``)."""
    test = load_split(split_path)["test"]
    return predict_lenses(
        store_path,
        normalisation_path,
        model_path,
        test,
        batch_size,
        calibration_path,
        augment,
    )


def calibrate(
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    model_path: str | Path,
    batch_size: int,
    augment: bool,
    calibration_path: str | Path,
) -> None:
    """Predict the validation subset and write the calibration of the model's standard
    deviations (``lenspipe.evaluation.calibration``). Raises ValueError for a model without
    uncertainties: there is nothing to calibrate (the workflow does not calibrate one)."""
    validation = load_split(split_path)["validation"]
    predicted = predict_lenses(
        store_path, normalisation_path, model_path, validation, batch_size, augment=augment
    )
    if predicted.sigma is None:
        raise ValueError(f"{model_path}: the model predicts no uncertainties to calibrate")
    save_calibration(
        calibration_path, predicted.names, predicted.truth, predicted.prediction, predicted.sigma
    )


def write_summary(
    predicted: TestPredictions,
    table: pd.DataFrame,
    metrics_path: str | Path,
    predictions_path: str | Path,
) -> None:
    """Write the metrics ``table`` as JSON (with the test size and the seconds per lens) and
    the per-lens predictions as CSV."""
    summary = {
        "n_test": int(len(predicted.lens_indices)),
        "seconds_per_lens": predicted.seconds_per_lens,
        "parameters": table.to_dict(orient="index"),
    }
    write_json(metrics_path, summary)
    write_predictions(
        predictions_path,
        predicted.lens_indices,
        predicted.names,
        predicted.truth,
        predicted.prediction,
        predicted.sigma,
    )


def evaluate(
    batch_size: int,
    gallery_size: int,
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    model_path: str | Path,
    calibration_path: str | Path | None,
    augment: bool,
    outputs: dict[str, str | Path],
) -> None:
    """Write metrics (``metrics_json``, ``metrics_csv``), the predictions (``predictions``)
    and figures (``predicted_vs_true``, ``residuals``, ``gallery``) for the test subset to
    the paths in ``outputs``, with the model's calibration (None for a model without
    uncertainties: then no coverage columns) and, for a model trained with ``augment``,
    test-time augmentation (``predict_lenses``)."""
    predicted = predict_test_subset(
        store_path,
        normalisation_path,
        split_path,
        model_path,
        batch_size,
        calibration_path,
        augment,
    )
    test, names = predicted.lens_indices, predicted.names
    truth, prediction, sigma = predicted.truth, predicted.prediction, predicted.sigma

    table = metrics_with_coverage(truth, prediction, sigma, names, predicted.tail_dof)
    with atomic_path(outputs["metrics_csv"]) as temporary:
        table.to_csv(temporary)
    write_summary(predicted, table, outputs["metrics_json"], outputs["predictions"])

    plot_predicted_vs_true(truth, prediction, names, outputs["predicted_vs_true"])
    plot_residuals(truth, prediction, names, outputs["residuals"])
    shown = test[:gallery_size]
    plot_gallery(
        load_normalisation(normalisation_path).image.stretched(
            open_store(store_path)["images"].oindex[shown]
        ),
        shown,
        truth[: len(shown)],
        prediction[: len(shown)],
        names,
        outputs["gallery"],
    )
