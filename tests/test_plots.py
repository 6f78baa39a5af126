"""What each figure draws: the data in its panels, not only that a PNG was written."""

import numpy as np
import pandas as pd
import pytest
from conftest import colour_fraction
from lenspipe.evaluation.plots import (
    Panel,
    display_image,
    plot_calibration,
    plot_gallery,
    plot_lens_gallery,
    plot_panels,
    plot_predicted_vs_true,
    plot_residuals,
)
from lenspipe.evaluation.uncertainty import coverage_standard_error
from lenspipe.learning.training_curve import plot_training_curve

NAMES = ["lens_theta_E", "lens_e1", "lens_center_x"]


@pytest.fixture
def truth_and_prediction():
    rng = np.random.default_rng(3)
    truth = rng.uniform(-1, 1, (50, len(NAMES)))
    return truth, truth + rng.normal(0, 0.1, truth.shape)


def visible(figure):
    return [axis for axis in figure.axes if axis.get_visible()]


def test_predicted_vs_true_scatters_each_target_about_the_identity(tmp_path, truth_and_prediction):
    truth, prediction = truth_and_prediction
    figure = plot_predicted_vs_true(truth, prediction, NAMES, tmp_path / "pvt.png")
    axes = visible(figure)
    assert [axis.get_title() for axis in axes] == NAMES
    for column, axis in enumerate(axes):
        (points,) = axis.collections
        np.testing.assert_array_equal(
            points.get_offsets(), np.column_stack([truth[:, column], prediction[:, column]])
        )
        (identity,) = axis.get_lines()
        low = min(truth[:, column].min(), prediction[:, column].min())
        high = max(truth[:, column].max(), prediction[:, column].max())
        assert list(identity.get_xdata()) == list(identity.get_ydata()) == [low, high]
    assert colour_fraction(tmp_path / "pvt.png") > 0.001


def test_residuals_are_prediction_minus_truth(tmp_path, truth_and_prediction):
    truth, prediction = truth_and_prediction
    figure = plot_residuals(truth, prediction, NAMES, tmp_path / "residuals.png")
    for column, axis in enumerate(visible(figure)):
        (points,) = axis.collections
        np.testing.assert_allclose(
            points.get_offsets(),
            np.column_stack([truth[:, column], prediction[:, column] - truth[:, column]]),
        )


def test_the_test_gallery_shows_each_image_with_its_true_and_predicted_values(tmp_path):
    rng = np.random.default_rng(4)
    images = rng.normal(size=(5, 8, 8, 1)).astype(np.float32)
    truth, prediction = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    names = NAMES + ["lens_center_y"]
    indices = np.array([7, 11, 19, 23, 42])
    figure = plot_gallery(images, indices, truth, prediction, names, tmp_path / "gallery.png")
    axes = visible(figure)
    assert len(axes) == 5
    for row, axis in enumerate(axes):
        (shown,) = axis.get_images()
        np.testing.assert_array_equal(shown.get_array(), display_image(images[row]))
        title = axis.get_title().splitlines()
        # The first three targets only, "true / predicted".
        assert title[0] == f"lens {indices[row]}" and len(title) == 4
        assert title[2] == f"{names[1]}: {truth[row, 1]:.3f} / {prediction[row, 1]:.3f}"


def test_the_lens_gallery_circles_the_quasar_images_in_arcsec(tmp_path):
    images = np.random.default_rng(5).normal(size=(2, 10, 10, 1))
    quasars = [(np.array([0.5, -0.5]), np.array([0.1, 0.2])), (np.array([0.0]), np.array([1.0]))]
    figure = plot_lens_gallery(images, quasars, 0.2, "a survey", tmp_path / "survey.png")
    for axis, (x, y) in zip(visible(figure), quasars):
        (image,) = axis.get_images()
        assert image.get_extent() == [-1.0, 1.0, -1.0, 1.0]
        (circles,) = axis.collections
        np.testing.assert_array_equal(circles.get_offsets(), np.column_stack([x, y]))
    assert figure.get_suptitle() == "a survey"


def test_the_calibration_figure_draws_each_target_and_the_sampling_noise(tmp_path):
    levels = np.linspace(0.1, 0.9, 9)
    observed = np.column_stack([levels + 0.01, levels - 0.02])
    figure = plot_calibration(levels, observed, NAMES[:2], 400, tmp_path / "calibration.png")
    whole, offset = figure.axes
    drawn = {line.get_label(): line.get_ydata() for line in whole.get_lines()}
    np.testing.assert_array_equal(drawn[NAMES[0]], observed[:, 0])
    np.testing.assert_array_equal(drawn[NAMES[1]], observed[:, 1])
    # Offsets from nominal, beside a band of ±2 standard errors of 400 lenses.
    offsets = [line.get_ydata() for line in offset.get_lines() if len(line.get_ydata()) > 2]
    np.testing.assert_allclose(offsets[1], observed[:, 1] - levels)
    (band,) = offset.collections
    top = band.get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(2 * coverage_standard_error(levels, 400).max())


def test_the_training_curve_draws_loss_and_mae_with_validation_where_it_was_run(tmp_path):
    history = pd.DataFrame(
        {
            "epoch": [0, 1, 2, 3],
            "loss": [1.0, 0.5, 0.3, 0.2],
            "val_loss": [1.1, np.nan, 0.4, np.nan],
            "mae": [-0.5, -0.9, -1.2, -1.3],
            "val_mae": [-0.4, np.nan, -1.0, np.nan],
        }
    )
    figure = plot_training_curve(history, tmp_path / "curve.png")
    loss, mae = figure.axes
    training, validation = loss.get_lines()
    assert list(training.get_xdata()) == [1, 2, 3, 4]
    assert list(validation.get_xdata()) == [1, 3]
    assert list(validation.get_ydata()) == [1.1, 0.4]
    # Log scale only where every value is positive.
    assert loss.get_yscale() == "log" and mae.get_yscale() == "linear"


def test_panels_show_their_maps_on_their_own_scales(tmp_path):
    maps = [np.arange(16.0).reshape(4, 4), 1e6 * np.eye(4)]
    panels = [Panel("ramp", maps[0]), Panel("diagonal", maps[1], points=(np.zeros(1), np.ones(1)))]
    figure = plot_panels(panels, "parts", tmp_path / "panels.png")
    for axis, panel in zip(visible(figure), panels):
        (image,) = axis.get_images()
        np.testing.assert_array_equal(image.get_array(), panel.image)
        assert image.get_clim() == (panel.image.min(), panel.image.max())
        assert axis.get_title() == panel.title
    assert len(visible(figure)[1].collections) == 1
