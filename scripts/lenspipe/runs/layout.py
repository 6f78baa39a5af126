"""The run's files and stages, declared once: the rules (``workflow/rules/*.smk``), the job
scripts and the status command all take their paths and their stage graph from here.

Every path is relative to the run folder, ``results/<run_name>``; a name in braces is the
Snakemake wildcard of the rule that writes the file.
"""

from pathlib import Path
from typing import Any

from lenspipe.work_settings import HISTORY_IN_PROGRESS

RESULTS = "results"

FILES = {
    # simulate_chunk, one job per chunk, resumable from the saved parts in its work folder.
    "chunk": "chunks/chunk_{chunk}.npz",
    "chunk_work": "work/chunks/chunk_{chunk}",
    "chunk_log": "logs/simulate_chunk/{chunk}.log",
    "chunk_benchmark": "benchmarks/simulate_chunk/{chunk}.tsv",
    # consolidate
    "store": "lenses.zarr",
    "table": "parameters.parquet",
    # normalise
    "normalisation": "normalisation.json",
    "split": "split.csv",
    # train, resumable from its work folder (outside the outputs, which a failed job loses)
    "model": "model.keras",
    "history": "history.csv",
    "training_curve": "plots/training_curve.png",
    "train_work": "work/train",
    # calibrate
    "calibration": "calibration.json",
    # evaluate
    "metrics_json": "metrics.json",
    "predictions": "predictions.csv",
    "metrics_csv": "metrics.csv",
    "predicted_vs_true": "plots/predicted_vs_true.png",
    "residuals": "plots/residuals.png",
    "calibration_plot": "plots/calibration.png",
    "gallery": "plots/gallery.png",
    # survey_gallery, one per survey preset
    "survey_gallery": "plots/surveys/{survey}.png",
    "survey_gallery_log": "logs/survey_gallery/{survey}.log",
    # realism_gallery: the PSFs, source stamps and subhalos of the realism switches
    "realism_gallery": "plots/realism.png",
    # baseline_dense
    "naive_model": "baselines/naive/model.keras",
    "naive_history": "baselines/naive/history.csv",
    "naive_curve": "baselines/naive/training_curve.png",
    "naive_predictions": "baselines/naive/predictions.csv",
    "naive_metrics_json": "baselines/naive/metrics.json",
    "naive_work": "work/baseline_dense",
    # baseline_fit
    "fit_predictions": "baselines/fit/predictions.csv",
    # compare
    "comparison_table": "comparison.csv",
    "comparison_summary": "comparison.json",
    # Independent test campaigns: each a run of its own in this folder, with the run's names.
    "campaign": "independent/{name}",
    "independent_table": "independent_tests.csv",
    # train_subset, one model per learning-curve size
    "subset_model": "learning_curve/{n_train}/model.keras",
    "subset_history": "learning_curve/{n_train}/history.csv",
    "subset_curve": "learning_curve/{n_train}/training_curve.png",
    "subset_predictions": "learning_curve/{n_train}/predictions.csv",
    "subset_log": "logs/train_subset/{n_train}.log",
    "subset_benchmark": "benchmarks/train_subset/{n_train}.tsv",
    "subset_work": "work/learning_curve/{n_train}",
    # learning_curve
    "learning_curve_table": "learning_curve.csv",
    "learning_curve_plot": "plots/learning_curve.png",
}
LOG = "logs/{stage}.log"
BENCHMARK = "benchmarks/{stage}.tsv"

STAGES = (
    "consolidate",
    "normalise",
    "train",
    "calibrate",
    "evaluate",
    "baseline_dense",
    "baseline_fit",
    "compare",
)
STAGE_OUTPUTS = {
    "consolidate": ("store", "table"),
    "normalise": ("normalisation", "split"),
    "train": ("model", "history"),
    "calibrate": ("calibration",),
    "evaluate": ("metrics_json",),
    "baseline_dense": ("naive_predictions", "naive_metrics_json"),
    "baseline_fit": ("fit_predictions",),
    "compare": ("comparison_table", "comparison_summary"),
}
"""The files whose presence means a stage is done (names of ``FILES``)."""
STAGE_NEEDS = {
    "consolidate": ("simulate_chunk",),
    "normalise": ("consolidate",),
    "train": ("normalise",),
    "calibrate": ("train",),
    "evaluate": ("calibrate",),
    "baseline_dense": ("normalise",),
    "baseline_fit": ("normalise",),
    "compare": ("evaluate", "baseline_dense", "baseline_fit"),
}
"""The stages each stage reads the outputs of (``simulate_chunk``: every chunk)."""


def fit_baseline_runs(config: dict[str, Any]) -> bool:
    """Whether the workflow runs the fit baseline: not when a lensed quasar or catalogue
    galaxies are simulated, which the fit (a Sersic source, no quasar) does not model."""
    system = config["lens_system"]
    return not system["point_source"] and system["source_catalogue"] is None


def run_stages(config: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The stages after the chunks that the workflow runs for ``config``, in order, each with
    the stages it reads the outputs of."""
    skipped = set() if fit_baseline_runs(config) else {"baseline_fit"}
    return {
        stage: tuple(need for need in STAGE_NEEDS[stage] if need not in skipped)
        for stage in STAGES
        if stage not in skipped
    }


def run_dir(config: dict[str, Any]) -> str:
    """The run's folder, relative to the workflow folder."""
    return f"{RESULTS}/{config['run_name']}"


def chunk_name(chunk: int) -> str:
    """The chunk wildcard: five digits."""
    return f"{chunk:05d}"


def run_file(run: Path, file: str, /, **wildcards: Any) -> Path:
    """File ``file`` of ``FILES`` in run folder ``run``, its wildcards filled in."""
    return run / FILES[file].format(**wildcards)


def chunk_file(run: Path, chunk: int) -> Path:
    return run_file(run, "chunk", chunk=chunk_name(chunk))


def chunk_work_dir(run: Path, chunk: int) -> Path:
    return run_file(run, "chunk_work", chunk=chunk_name(chunk))


def chunk_log(run: Path, chunk: int) -> Path:
    return run_file(run, "chunk_log", chunk=chunk_name(chunk))


def chunk_benchmark(run: Path, chunk: int) -> Path:
    return run_file(run, "chunk_benchmark", chunk=chunk_name(chunk))


def stage_log(run: Path, stage: str) -> Path:
    return run / LOG.format(stage=stage)


def stage_benchmark(run: Path, stage: str) -> Path:
    return run / BENCHMARK.format(stage=stage)


def stage_outputs(run: Path, stage: str) -> list[Path]:
    """The files whose presence means ``stage`` is done."""
    return [run_file(run, name) for name in STAGE_OUTPUTS[stage]]


def training_history_in_progress(run: Path) -> Path:
    return run_file(run, "train_work") / HISTORY_IN_PROGRESS


def survey_gallery_file(run: Path, survey: str) -> Path:
    return run_file(run, "survey_gallery", survey=survey)


def campaign_dir(run: Path, name: str) -> Path:
    """The folder of independent test campaign ``name``: a run folder of its own."""
    return run_file(run, "campaign", name=name)


def learning_curve_outputs(run: Path) -> list[Path]:
    """The learning curve's table and figure."""
    return [run_file(run, "learning_curve_table"), run_file(run, "learning_curve_plot")]


def learning_curve_predictions(run: Path, size: int) -> Path:
    return run_file(run, "subset_predictions", n_train=size)


def learning_curve_history_in_progress(run: Path, size: int) -> Path:
    return run_file(run, "subset_work", n_train=size) / HISTORY_IN_PROGRESS
