"""The lensing cut: is a simulated lens visibly lensed?

Three measures, each with an optional threshold in ``lensing_cut``:

- the source magnification: the noise-free flux of the lensed extended source inside the
  image, in the reference band, over the source's unlensed total flux;
- the arc signal-to-noise ratio: sqrt(sum over pixels and bands of (arc / sigma)^2), where
  the arc is the noise-free lensed extended source (not the quasar) and sigma the noise of
  the whole image (sky, read noise and Poisson noise of every component);
- the number of images of the lensed quasar.
"""

from collections.abc import Sequence

import numpy as np
from lenspipe.settings import LensingCut


def source_magnification(lensed_source: np.ndarray, unlensed_counts: float) -> float:
    """Lensed source counts in the image over the source's unlensed total counts."""
    return float(lensed_source.sum() / unlensed_counts)


def arc_snr(arcs: Sequence[np.ndarray], sigma: Sequence[np.ndarray]) -> float:
    """Signal-to-noise ratio of the lensed source, over pixels and bands in quadrature."""
    return float(np.sqrt(sum(np.sum((arc / noise) ** 2) for arc, noise in zip(arcs, sigma))))


def passes(cut: LensingCut, magnification: float, snr: float, images: int) -> bool:
    """True when the lens meets every threshold that ``cut`` sets (``images``: the quasar's
    image count, 0 without a quasar)."""
    measures = (
        (cut.min_source_magnification, magnification),
        (cut.min_arc_snr, snr),
        (cut.min_images, images),
    )
    return all(threshold is None or value >= threshold for threshold, value in measures)


def rejection_summary(rejected_draws: np.ndarray) -> dict[str, float]:
    """Lenses kept, draws rejected, and the rejection rate (rejected over all draws)."""
    lenses = len(rejected_draws)
    rejected = int(np.sum(rejected_draws))
    return {
        "lenses": lenses,
        "rejected_draws": rejected,
        "rejection_rate": rejected / (rejected + lenses) if lenses else 0.0,
    }
