"""Figures of the evaluation: predicted versus true, residuals, calibration, image galleries,
the learning curve. Each function saves its figure as a PNG and returns it, for inspection."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lenspipe.evaluation.uncertainty import coverage_standard_error
from lenspipe.figures import plt, save_figure


def _panel_grid(count: int, columns: int, size: float = 3.0) -> tuple[plt.Figure, np.ndarray]:
    rows = -(-count // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(size * columns, size * rows), squeeze=False, layout="constrained"
    )
    for axis in axes.flat[count:]:
        axis.set_visible(False)
    return figure, axes.flat


def display_image(image: np.ndarray) -> np.ndarray:
    """An (H, W, bands) image ready for ``imshow``: one band as it is; three or more as RGB.

    With several bands listed from blue to red (for example g, r, i), the last three channels
    become blue, green and red after scaling the image (all channels together) to [0, 1];
    two bands show their mean.
    """
    if image.shape[-1] == 1:
        return image[..., 0]
    if image.shape[-1] == 2:
        return image.mean(axis=-1)
    rgb = image[..., -1:-4:-1]
    low, high = float(rgb.min()), float(rgb.max())
    return np.clip((rgb - low) / (high - low if high > low else 1.0), 0.0, 1.0)


def _parameter_panels(
    truth: np.ndarray,
    prediction: np.ndarray,
    names: list[str],
    path: str | Path,
    draw: Callable[[plt.Axes, np.ndarray, np.ndarray], None],
) -> plt.Figure:
    """One panel per parameter, filled by ``draw(axis, true, predicted)``; returns the saved
    figure."""
    figure, axes = _panel_grid(len(names), columns=min(4, len(names)))
    for column, (axis, name) in enumerate(zip(axes, names)):
        draw(axis, truth[:, column], prediction[:, column])
        axis.set_title(name)
        axis.set_xlabel("true")
    save_figure(figure, path)
    return figure


def _draw_predicted_vs_true(axis: plt.Axes, true: np.ndarray, predicted: np.ndarray) -> None:
    low, high = min(true.min(), predicted.min()), max(true.max(), predicted.max())
    axis.scatter(true, predicted, s=4, alpha=0.4)
    axis.plot([low, high], [low, high], color="black", linewidth=1)
    axis.set_ylabel("predicted")


def _draw_residuals(axis: plt.Axes, true: np.ndarray, predicted: np.ndarray) -> None:
    axis.scatter(true, predicted - true, s=4, alpha=0.4)
    axis.axhline(0.0, color="black", linewidth=1)
    axis.set_ylabel("predicted - true")


def plot_predicted_vs_true(
    truth: np.ndarray, prediction: np.ndarray, names: list[str], path: str | Path
) -> plt.Figure:
    """One panel per parameter: prediction against truth, with the identity line."""
    return _parameter_panels(truth, prediction, names, path, _draw_predicted_vs_true)


def plot_residuals(
    truth: np.ndarray, prediction: np.ndarray, names: list[str], path: str | Path
) -> plt.Figure:
    """One panel per parameter: residual (predicted - true) against truth."""
    return _parameter_panels(truth, prediction, names, path, _draw_residuals)


def plot_gallery(
    images: np.ndarray,
    lens_indices: np.ndarray,
    truth: np.ndarray,
    prediction: np.ndarray,
    names: list[str],
    path: str | Path,
) -> plt.Figure:
    """Test images (stretched) with the true and predicted value of the first targets."""
    shown = names[:3]
    figure, axes = _panel_grid(len(images), columns=4, size=3.2)
    for row, axis in enumerate(axes[: len(images)]):
        axis.imshow(display_image(images[row]), origin="lower", cmap="magma")
        axis.set_xticks([])
        axis.set_yticks([])
        lines = [f"lens {lens_indices[row]}"] + [
            f"{name}: {truth[row, k]:.3f} / {prediction[row, k]:.3f}"
            for k, name in enumerate(shown)
        ]
        axis.set_title("\n".join(lines), fontsize=7)
    figure.suptitle("true / predicted", fontsize=9)
    save_figure(figure, path)
    return figure


def plot_lens_gallery(
    images: np.ndarray,
    quasar_images: list[tuple[np.ndarray, np.ndarray]] | None,
    pixel_scale: float,
    title: str,
    path: str | Path,
) -> plt.Figure:
    """Stretched lens images, with the quasar's image positions (arcsec) marked if given."""
    figure, axes = _panel_grid(len(images), columns=4, size=2.6)
    half_width = images.shape[1] * pixel_scale / 2
    extent = (-half_width, half_width, -half_width, half_width)
    for row, axis in enumerate(axes[: len(images)]):
        axis.imshow(display_image(images[row]), origin="lower", cmap="magma", extent=extent)
        if quasar_images is not None:
            x, y = quasar_images[row]
            axis.scatter(x, y, s=60, facecolors="none", edgecolors="cyan", linewidths=0.8)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle(title, fontsize=9)
    save_figure(figure, path)
    return figure


def plot_calibration(
    levels: np.ndarray,
    observed: np.ndarray,
    names: list[str],
    n_lenses: int,
    path: str | Path,
) -> plt.Figure:
    """Observed against nominal coverage of the central intervals of ``n_lenses`` lenses, one
    line per parameter (left), and observed minus nominal (right) beside the sampling noise
    of a calibrated coverage on as many lenses, shaded at ±2 standard errors."""
    figure, (whole, offset) = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")
    whole.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    noise = 2 * coverage_standard_error(levels, n_lenses)
    label = f"±2 standard errors of {n_lenses:,} lenses"
    offset.fill_between(levels, -noise, noise, color="grey", alpha=0.25, label=label)
    offset.axhline(0, color="grey", linestyle="--")
    for column, name in enumerate(names):
        whole.plot(levels, observed[:, column], marker=".", label=name)
        offset.plot(levels, observed[:, column] - levels, marker=".")
    whole.set_ylabel("fraction of test lenses inside")
    whole.set_xlim(0, 1)
    whole.set_ylim(0, 1)
    whole.legend(fontsize="small")
    offset.set_ylabel("fraction inside minus nominal coverage")
    offset.legend(fontsize="small")
    for axis in (whole, offset):
        axis.set_xlabel("nominal coverage of the central interval")
    save_figure(figure, path)
    return figure


def plot_learning_curve(
    sizes: np.ndarray,
    rmse: np.ndarray,
    names: list[str],
    path: str | Path,
    floor: np.ndarray | None = None,
) -> plt.Figure:
    """One panel per parameter: test RMSE (physical units) against the number of training
    lenses, on a logarithmic axis; ``rmse`` is (len(sizes), len(names)). ``floor`` (one per
    name) is drawn as a dashed line: the refined fit's RMSE. Returns the (saved) figure."""
    figure, axes = _panel_grid(len(names), columns=min(4, len(names)))
    for column, (axis, name) in enumerate(zip(axes, names)):
        axis.plot(sizes, rmse[:, column], marker="o", label="CNN")
        if floor is not None and np.isfinite(floor[column]):
            axis.axhline(floor[column], linestyle="--", color="grey", label="refined fit")
            axis.set_ylim(bottom=0)
            axis.legend(fontsize="small")
        axis.set_xscale("log")
        axis.set_xticks(sizes, [f"{size:,}" for size in sizes], fontsize="small")
        axis.minorticks_off()
        axis.set_title(name)
        axis.set_xlabel("training lenses")
        axis.set_ylabel("test RMSE")
    save_figure(figure, path)
    return figure


@dataclass
class Panel:
    """One map of a figure of panels: its title, the 2-D map (drawn with ``origin="lower"``),
    its extent in arcsec (None: pixels) and points to circle on it (arcsec)."""

    title: str
    image: np.ndarray
    extent: tuple[float, float, float, float] | None = None
    points: tuple[np.ndarray, np.ndarray] | None = None


def plot_panels(panels: list[Panel], title: str, path: str | Path) -> plt.Figure:
    """Maps side by side, four to a row, each on its own colour scale."""
    figure, axes = _panel_grid(len(panels), columns=4, size=2.6)
    for panel, axis in zip(panels, axes):
        axis.imshow(panel.image, origin="lower", cmap="magma", extent=panel.extent)
        if panel.points is not None:
            axis.scatter(*panel.points, s=40, facecolors="none", edgecolors="cyan", linewidths=0.8)
        axis.set_title(panel.title, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle(title, fontsize=9)
    save_figure(figure, path)
    return figure
