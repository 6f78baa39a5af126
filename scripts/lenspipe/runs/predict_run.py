"""``python -m lenspipe predict``: a run's trained model on images from outside its store.

Finds the run's model, calibration, normalisation and store from its config and checks that
they are there before any image is read or model loaded; the images themselves are read,
checked and predicted by ``lenspipe.evaluation.apply``.
"""

from pathlib import Path
from typing import Any

from lenspipe.atomic import atomic_path
from lenspipe.data.store import open_store
from lenspipe.evaluation.apply import predict_images, read_images
from lenspipe.learning.variants import model_settings, predicts_uncertainties
from lenspipe.runs.layout import run_dir, run_file


def predict_run_images(
    images_path: str | Path,
    config: dict[str, Any],
    directory: str | Path,
    model: str,
    out: str | Path,
) -> int:
    """Predict the images of ``images_path`` with model ``model`` of the run of ``config``
    (in workflow folder ``directory``) and write ``predict_images``'s table to ``out`` as CSV;
    return the number of images.

    Raises ValueError, before loading any model, when the run has not trained (or
    calibrated) the model, when ``out`` exists (nothing is overwritten) or for images that
    ``read_images`` refuses.
    """
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
    images = read_images(images_path, tuple(open_store(store)["images"].shape[1:]))
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
    with atomic_path(out) as temporary:
        table.to_csv(temporary, index=False)
    return len(table)
