"""Refining images from outside the run: real cutouts or another simulator's mocks, on the run's
pixel grid in counts per second, with the run's PSF and noise model.

Each image is predicted by the run's calibrated CNN (``predict_images``, as ``python -m lenspipe
predict`` does) and refined from there like a test lens. There is no truth, so nothing
calibrates the refined sigmas on these images: they take the factors the run found on its own
refined validation lenses (``refine/calibration.json``), which hold where the images are like
the run's mocks; without that file they are the Fisher sigmas as they are. Both
``python -m lenspipe predict --refine`` (in one process) and the workflow's
``refine_cutouts`` target (``refine.cutouts``: seeds, then chunk jobs, then the merge, as for
the test lenses) go through here.

The predictions table has one row per image: ``image`` (its position in the file), per target
``pred_<t>`` and ``sigma_<t>`` (NaN where the fit did not converge), the CNN's ``cnn_<t>`` and
``cnn_sigma_<t>``, then ``seconds``, ``converged``, ``chi2``, ``chi2_per_pixel``, ``path``,
``n_descents`` and ``evaluations``.
"""

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
from lenspipe.atomic import atomic_path, write_json
from lenspipe.evaluation.apply import predict_images
from lenspipe.evaluation.image_files import read_images
from lenspipe.evaluation.calibration import Calibration, load_calibration
from lenspipe.refinement.merge import prediction_table
from lenspipe.refinement.pool import refine_rows, refining_map
from lenspipe.refinement.engine import PATHS
from lenspipe.settings import RefineSearch
from lenspipe.settings import SimulationSettings
from tqdm import tqdm

CUTOUT = "cutout"
"""The role of an image from outside the run in a seeds table."""


def cutout_seeds(predictions: pd.DataFrame, targets: list[str]) -> pd.DataFrame:
    """The seeds of images predicted by ``predict_images`` (with sigmas): ``lens_index`` (the
    image's position), ``role``, ``cnn_<t>`` and ``cnn_sigma_<t>``."""
    missing = [name for name in targets if f"sigma_{name}" not in predictions]
    if missing:
        raise ValueError(f"refinement needs the CNN's calibrated sigma of {', '.join(missing)}")
    seeds = pd.DataFrame({"lens_index": predictions["image"].to_numpy(), "role": CUTOUT})
    for name in targets:
        seeds[f"cnn_{name}"] = predictions[f"pred_{name}"].to_numpy()
        seeds[f"cnn_sigma_{name}"] = predictions[f"sigma_{name}"].to_numpy()
    return seeds


def write_cutout_seeds(
    images_path: str | Path,
    image_shape: tuple[int, int, int],
    model_path: str | Path,
    normalisation_path: str | Path,
    store_path: str | Path,
    calibration_path: str | Path,
    batch_size: int,
    augment: bool,
    targets: list[str],
    images_out: str | Path,
    seeds_out: str | Path,
) -> pd.DataFrame:
    """Read and check the images (``read_images``), keep them as float32 .npy for the refine
    jobs, predict them with the calibrated model and write their seeds; return the seeds."""
    images = read_images(images_path, image_shape)
    with atomic_path(images_out) as temporary:
        with open(temporary, "wb") as handle:
            np.save(handle, images)
    predictions = predict_images(
        images, model_path, normalisation_path, store_path, batch_size, augment, calibration_path
    )
    seeds = cutout_seeds(predictions, targets)
    with atomic_path(seeds_out) as temporary:
        seeds.to_csv(temporary, index=False)
    return seeds


def refined_calibration(path: str | Path | None, targets: list[str]) -> Calibration | None:
    """The run's calibration of its refined sigmas, or None when it has none."""
    if path is None or not Path(path).is_file():
        return None
    return load_calibration(path, targets)


def cutout_predictions(
    rows: pd.DataFrame, targets: list[str], calibration: Calibration | None
) -> pd.DataFrame:
    """The predictions table of refined cutout rows (see the module docstring)."""
    scales = np.ones(len(targets)) if calibration is None else calibration.sigma_scales
    return prediction_table(rows, targets, scales, index="image")


def refine_images(
    images: np.ndarray,
    predictions: pd.DataFrame,
    simulation: SimulationSettings,
    search: RefineSearch,
    targets: list[str],
    calibration_path: str | Path | None,
    workers: int = 1,
    progress: TextIO | None = None,
) -> pd.DataFrame:
    """Refine ``images`` (N, H, W, bands) from their CNN ``predictions`` in ``workers``
    processes, in this process's memory; return their predictions table."""
    seeds = cutout_seeds(predictions, targets)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "images.npy"
        np.save(path, images)
        bar = tqdm(total=len(seeds), file=progress, disable=progress is None, unit="image")
        with bar, refining_map(simulation, search, path, workers) as mapping:
            rows = refine_rows(seeds, targets, mapping, bar)
    return cutout_predictions(rows, targets, refined_calibration(calibration_path, targets))


def merge_cutouts(
    chunk_paths: Sequence[str | Path],
    targets: list[str],
    calibration_path: str | Path | None,
    predictions_path: str | Path,
    summary_path: str | Path,
) -> dict:
    """Merge the refine chunks of a set of cutouts, write their predictions and a summary
    (counts, paths, seconds per lens, whether the sigmas are calibrated); return it."""
    rows = pd.concat([pd.read_csv(path) for path in chunk_paths], ignore_index=True)
    calibration = refined_calibration(calibration_path, targets)
    predictions = cutout_predictions(rows, targets, calibration)
    with atomic_path(predictions_path) as temporary:
        predictions.to_csv(temporary, index=False)
    converged = predictions["converged"].astype(bool)
    summary = {
        "n_images": int(len(predictions)),
        "n_converged": int(converged.sum()),
        "n_failed": int((~converged).sum()),
        "paths": {path: int((predictions["path"] == path).sum()) for path in PATHS},
        "seconds_per_lens_mean": float(predictions["seconds"].mean()),
        "sigmas_calibrated": calibration is not None,
    }
    write_json(summary_path, summary)
    return summary
