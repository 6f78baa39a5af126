"""Evaluation on the test subset, in physical units."""

import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from lenspipe.atomic import atomic_path, write_json
from lenspipe.dataset import LensBatches
from lenspipe.losses import split_prediction
from lenspipe.metrics import regression_metrics
from lenspipe.normalise import Normalisation, load_normalisation, load_split
from lenspipe.plots import (
    plot_calibration,
    plot_gallery,
    plot_no_calibration,
    plot_predicted_vs_true,
    plot_residuals,
)
from lenspipe.predictions import write_predictions
from lenspipe.store import open_store, read_parameters
from lenspipe.uncertainty import calibration_curve, coverage_table

CALIBRATION_LEVELS = np.linspace(0.05, 0.95, 19)


def predict_physical(
    model: keras.Model, batches: LensBatches, normalisation: Normalisation
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Predict every batch in order: the targets (N, k) and their standard deviations (N, k,
    or None for a model without uncertainties) in physical units, and the seconds per lens.
    """
    started = time.perf_counter()
    scaled = model.predict(batches.as_dataset(), verbose=0)
    seconds_per_lens = (time.perf_counter() - started) / len(scaled)
    k = len(normalisation.targets)
    if scaled.shape[1] == k:
        return normalisation.inverse_targets(scaled), None, seconds_per_lens
    mean, sigma = split_prediction(scaled, k)
    return (
        normalisation.inverse_targets(mean),
        normalisation.inverse_sigma(sigma),
        seconds_per_lens,
    )


@dataclass
class TestPredictions:
    """A model's predictions on the test subset, in physical units, beside the truth."""

    lens_indices: np.ndarray
    names: list[str]
    truth: np.ndarray
    prediction: np.ndarray
    sigma: np.ndarray | None
    seconds_per_lens: float


def predict_test_subset(
    store_path: str | Path,
    normalisation_path: str | Path,
    split_path: str | Path,
    model_path: str | Path,
    batch_size: int,
) -> TestPredictions:
    """Load the model and predict every test lens of the store."""
    normalisation = load_normalisation(normalisation_path)
    test = load_split(split_path)["test"]
    model = keras.models.load_model(model_path)
    batches = LensBatches(store_path, test, normalisation, batch_size)
    prediction, sigma, seconds_per_lens = predict_physical(model, batches, normalisation)
    truth = read_parameters(open_store(store_path), normalisation.targets)[test]
    return TestPredictions(test, normalisation.targets, truth, prediction, sigma, seconds_per_lens)


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
    outputs: dict[str, str | Path],
) -> None:
    """Write metrics (``metrics_json``, ``metrics_csv``), the predictions (``predictions``)
    and figures (``predicted_vs_true``, ``residuals``, ``calibration``, ``gallery``) for the
    test subset to the paths in ``outputs``."""
    predicted = predict_test_subset(
        store_path, normalisation_path, split_path, model_path, batch_size
    )
    test, names = predicted.lens_indices, predicted.names
    truth, prediction, sigma = predicted.truth, predicted.prediction, predicted.sigma

    table = regression_metrics(truth, prediction, names)
    if sigma is not None:
        table = table.join(coverage_table(truth, prediction, sigma, names))
    with atomic_path(outputs["metrics_csv"]) as temporary:
        table.to_csv(temporary)
    write_summary(predicted, table, outputs["metrics_json"], outputs["predictions"])

    plot_predicted_vs_true(truth, prediction, names, outputs["predicted_vs_true"])
    plot_residuals(truth, prediction, names, outputs["residuals"])
    if sigma is None:
        plot_no_calibration(outputs["calibration"])
    else:
        observed = calibration_curve(truth, prediction, sigma, CALIBRATION_LEVELS)
        plot_calibration(CALIBRATION_LEVELS, observed, names, outputs["calibration"])
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
