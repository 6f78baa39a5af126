"""Evaluation on the test subset, in physical units."""

import time
from pathlib import Path

import keras
import numpy as np

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
    normalisation = load_normalisation(normalisation_path)
    test = load_split(split_path)["test"]
    model = keras.models.load_model(model_path)
    batches = LensBatches(store_path, test, normalisation, batch_size)
    prediction, sigma, seconds_per_lens = predict_physical(model, batches, normalisation)
    root = open_store(store_path)
    truth = read_parameters(root, normalisation.targets)[test]
    names = normalisation.targets

    table = regression_metrics(truth, prediction, names)
    if sigma is not None:
        table = table.join(coverage_table(truth, prediction, sigma, names))
    with atomic_path(outputs["metrics_csv"]) as temporary:
        table.to_csv(temporary)
    summary = {
        "n_test": int(len(test)),
        "seconds_per_lens": seconds_per_lens,
        "parameters": table.to_dict(orient="index"),
    }
    write_json(outputs["metrics_json"], summary)
    write_predictions(outputs["predictions"], test, names, truth, prediction, sigma)

    plot_predicted_vs_true(truth, prediction, names, outputs["predicted_vs_true"])
    plot_residuals(truth, prediction, names, outputs["residuals"])
    if sigma is None:
        plot_no_calibration(outputs["calibration"])
    else:
        observed = calibration_curve(truth, prediction, sigma, CALIBRATION_LEVELS)
        plot_calibration(CALIBRATION_LEVELS, observed, names, outputs["calibration"])
    shown = test[:gallery_size]
    plot_gallery(
        normalisation.image.stretched(root["images"].oindex[shown]),
        shown,
        truth[: len(shown)],
        prediction[: len(shown)],
        names,
        outputs["gallery"],
    )
