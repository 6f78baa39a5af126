"""The model variants: each model's settings and build from the one registry, and how a model
without uncertainties is evaluated (no calibration, no coverage, no calibration plot)."""

import json

import keras
import pandas as pd
import pytest
from conftest import fit_small_normalisation, small_config
from lenspipe.config import merge_config
from lenspipe.data.normalise import save_normalisation, save_split
from lenspipe.evaluation.calibration_plot import draw_calibration_plot
from lenspipe.evaluation.evaluate import calibrate, evaluate
from lenspipe.learning.model import load_trained_model
from lenspipe.learning.train import train
from lenspipe.learning.variants import (
    MAIN_MODEL,
    MODELS,
    builder,
    model_settings,
    predicts_uncertainties,
)

EVALUATION_OUTPUTS = (
    "metrics_json",
    "metrics_csv",
    "predictions",
    "predicted_vs_true",
    "residuals",
    "gallery",
)


def test_the_naive_model_reads_the_shared_training_settings_and_its_own():
    config = small_config()
    naive = model_settings(config, "naive")
    assert naive["dense_units"] == config["baselines"]["dense"]["dense_units"]
    assert (naive["loss"], naive["augment"]) == ("mse", False)
    for name in ("targets", "batch_size", "epochs", "learning_rate", "early_stopping_patience"):
        assert naive[name] == config["training"][name], name
    assert "conv_filters" not in naive and "allow_cpu_fallback" not in naive
    # The CNN's architecture is none of its settings (changing it does not retrain it) ...
    wider = merge_config(config, {"training": {"conv_filters": [4, 8]}})
    assert model_settings(wider, "naive") == naive
    assert model_settings(wider, MAIN_MODEL) != model_settings(config, MAIN_MODEL)
    # ... the shared epochs are.
    longer = merge_config(config, {"training": {"epochs": config["training"]["epochs"] + 1}})
    assert model_settings(longer, "naive") != naive
    assert list(MODELS)[0] == MAIN_MODEL


def test_which_models_predict_uncertainties_follows_their_loss():
    config = small_config()
    assert predicts_uncertainties(config, MAIN_MODEL)
    assert not predicts_uncertainties(config, "naive")
    mse = merge_config(config, {"training": {"loss": "mse"}})
    assert not predicts_uncertainties(mse, MAIN_MODEL)


def test_each_model_is_built_from_its_settings():
    config = small_config()
    shape, k = (32, 32, 1), len(config["training"]["targets"])
    cnn = builder(MAIN_MODEL, model_settings(config, MAIN_MODEL))(shape, 4)
    naive = builder("naive", model_settings(config, "naive"))(shape, 4)
    assert cnn.output_shape == (None, 2 * k) and naive.output_shape == (None, k)
    assert naive.name == "naive_dense" and naive.loss == "mse"
    hidden = [layer for layer in naive.layers if isinstance(layer, keras.layers.Dense)][:-1]
    units = [layer.units for layer in hidden]
    assert units == config["baselines"]["dense"]["dense_units"]
    assert not any(layer.name.startswith("conv") for layer in naive.layers)


@pytest.fixture(scope="module")
def trained_naive(small_store, tmp_path_factory):
    """The naive model trained for one epoch through the registry, as the train rule does."""
    config, store, _, _ = small_store
    folder = tmp_path_factory.mktemp("naive")
    subsets, normalisation = fit_small_normalisation(config, store)
    save_split(subsets, folder / "split.csv")
    save_normalisation(normalisation, folder / "normalisation.json")
    settings = dict(model_settings(config, "naive"), epochs=1)
    train(
        settings,
        config["seed"],
        store,
        folder / "normalisation.json",
        folder / "split.csv",
        folder / "work",
        folder / "model.keras",
        folder / "history.csv",
        folder / "curve.png",
        build=builder("naive", settings),
    )
    return config, store, folder


def test_a_model_without_uncertainties_is_evaluated_without_coverage(trained_naive):
    config, store, folder = trained_naive
    assert load_trained_model(folder / "model.keras").name == "naive_dense"
    outputs = {name: folder / name for name in EVALUATION_OUTPUTS}
    evaluate(
        16,
        4,
        store,
        folder / "normalisation.json",
        folder / "split.csv",
        folder / "model.keras",
        None,
        False,
        outputs,
    )
    metrics = pd.read_csv(outputs["metrics_csv"], index_col=0)
    assert list(metrics.index) == config["training"]["targets"]
    assert not [column for column in metrics if column.startswith("coverage")]
    summary = json.loads(outputs["metrics_json"].read_text())
    assert not any("coverage" in key for row in summary["parameters"].values() for key in row)
    predictions = pd.read_csv(outputs["predictions"])
    assert not [column for column in predictions if column.startswith("sigma_")]
    with pytest.raises(ValueError, match="no sigma_<target> columns"):
        draw_calibration_plot(
            config["training"]["targets"],
            outputs["predictions"],
            folder / "calibration.json",
            folder / "calibration.png",
        )
    assert not (folder / "calibration.png").exists()


def test_a_model_without_uncertainties_is_not_calibrated(trained_naive):
    _, store, folder = trained_naive
    with pytest.raises(ValueError, match="predicts no uncertainties to calibrate"):
        calibrate(
            store,
            folder / "normalisation.json",
            folder / "split.csv",
            folder / "model.keras",
            16,
            False,
            folder / "calibration.json",
        )
    assert not (folder / "calibration.json").exists()
