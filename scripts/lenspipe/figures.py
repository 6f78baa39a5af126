"""Figures written as the jobs write every file: matplotlib without a display, saved to a
temporary name and renamed into place (``lenspipe.atomic``)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from lenspipe.atomic import atomic_path  # noqa: E402

__all__ = ["plt", "save_figure"]


def save_figure(figure: plt.Figure, path: str | Path) -> None:
    """Save ``figure`` as a PNG at ``path`` (atomically) and close it."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110, bbox_inches="tight", format="png")
    plt.close(figure)
