"""The training curve: loss and MAE per epoch, written when a training finishes."""

from pathlib import Path

import pandas as pd
from lenspipe.figures import plt, save_figure


def plot_training_curve(history: pd.DataFrame, path: str | Path) -> plt.Figure:
    """Loss and MAE of training and validation per epoch (log scale where every value is
    positive; a likelihood loss can be negative). Returns the saved figure."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for axis, metric in zip(axes, ("loss", "mae")):
        axis.plot(history["epoch"] + 1, history[metric], label="training")
        validated = history.dropna(subset=[f"val_{metric}"])  # see training.validation_interval
        axis.plot(validated["epoch"] + 1, validated[f"val_{metric}"], label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(f"{metric} (scaled targets)")
        positive = (history[metric] > 0).all() and (validated[f"val_{metric}"] > 0).all()
        axis.set_yscale("log" if positive else "linear")
        axis.legend()
    save_figure(figure, path)
    return figure
