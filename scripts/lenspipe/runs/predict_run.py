"""``python -m lenspipe predict``: a run's trained model on images from outside its store.

Finds the run's model, calibration, normalisation and store from its config and checks that
they are there before any image is read or model loaded; the images themselves are read,
checked and predicted by ``lenspipe.evaluation.apply``.
"""

from pathlib import Path
from typing import Any, TextIO

from lenspipe.atomic import atomic_path
from lenspipe.data.store import open_store
from lenspipe.evaluation.apply import predict_images
from lenspipe.evaluation.image_files import read_images
from lenspipe.learning.variants import MAIN_MODEL, model_settings, predicts_uncertainties
from lenspipe.refinement.cutouts import refine_images
from lenspipe.settings import RefineSearch
from lenspipe.runs.layout import fit_baseline_runs, run_dir, run_file
from lenspipe.settings import SimulationSettings, simulation_settings


def predict_run_images(
    images_path: str | Path,
    config: dict[str, Any],
    directory: str | Path,
    model: str,
    out: str | Path,
    refine: bool = False,
    workers: int = 1,
    progress: TextIO | None = None,
    band_axis: str = "last",
) -> int:
    """Predict the images of ``images_path`` with model ``model`` of the run of ``config``
    (in workflow folder ``directory``) and write ``predict_images``'s table to ``out`` as CSV;
    with ``refine``, refine each image from there in ``workers`` processes and write the
    refined table (``lenspipe.refinement.cutouts``) instead. ``band_axis`` says where the
    file's bands are (``lenspipe.evaluation.image_files``). Return the number of images.

    Raises ValueError, before loading any model, when the run has not trained (or
    calibrated) the model, when ``out`` exists (nothing is overwritten), for images that
    ``read_images`` refuses, or for ``refine`` with a model without uncertainties or a lens
    system the fit does not model.
    """
    if refine:
        _check_refinable(config, model)
    run = Path(directory) / run_dir(config)
    model_path = run_file(run, "model", model=model)
    if not model_path.is_file():
        raise ValueError(
            f"{model_path}: no trained model {model!r} in run {config['run_name']!r}; "
            "expected the run to have trained it (give the run's --configfile)"
        )
    calibration_path = None
    if predicts_uncertainties(config, model):
        calibration_path = run_file(run, "calibration", model=model)
        if not calibration_path.is_file():
            raise ValueError(
                f"{calibration_path}: model {model!r} is trained but not calibrated yet; "
                "expected the run's calibrate job to have written it"
            )
    out = Path(out)
    if out.exists():
        raise ValueError(f"{out}: exists; expected a new file (predictions are not overwritten)")
    store = run_file(run, "store")
    if not (store / "zarr.json").is_file():
        raise ValueError(
            f"{store}: no store of the run's images; expected it beside the trained model "
            "(its pixel grid and image shape are read from there)"
        )
    images = read_images(images_path, tuple(open_store(store)["images"].shape[1:]), band_axis)
    settings = model_settings(config, model)
    table = predict_images(
        images,
        model_path,
        run_file(run, "normalisation"),
        store,
        settings["batch_size"],
        settings["augment"],
        calibration_path,
    )
    if refine:
        table = refine_images(
            images,
            table,
            SimulationSettings.from_config(simulation_settings(config)),
            RefineSearch.from_config(config["refine"]),
            config["training"]["targets"],
            run_file(run, "refine_calibration"),
            workers,
            progress,
        )
    with atomic_path(out) as temporary:
        table.to_csv(temporary, index=False)
    return len(table)


def _check_refinable(config: dict[str, Any], model: str) -> None:
    """Refuse ``--refine`` where a refinement cannot start: a model without calibrated
    uncertainties, or a lens system the fit does not model."""
    if model != MAIN_MODEL or not predicts_uncertainties(config, model):
        raise ValueError(
            f"--refine: starts from the {MAIN_MODEL} model's calibrated uncertainties; "
            f"model {model!r} of this run has none"
        )
    if not fit_baseline_runs(config):
        raise ValueError(
            "--refine: the fit models a Sersic source without a lensed quasar; this run "
            "simulates a quasar or catalogue sources (lens_system)"
        )
