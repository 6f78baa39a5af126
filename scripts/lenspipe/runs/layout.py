"""The run's files and stages, declared once: the rules (``workflow/rules/*.smk``), the job
scripts and the status command all take their paths and their stage graph from here.

Every path is relative to the run folder, ``results/<run_name>``; a name in braces is the
Snakemake wildcard of the rule that writes the file.
"""

from pathlib import Path
from typing import Any

from lenspipe.config import realism_switches
from lenspipe.learning.variants import MAIN_MODEL, MODELS, predicts_uncertainties
from lenspipe.work_settings import HISTORY_IN_PROGRESS

RESULTS = "results"

FILES = {
    # simulate_chunk, one job per chunk, resumable from the saved parts in its work folder.
    "chunk": "chunks/chunk_{chunk}.npz",
    "chunk_work": "work/chunks/chunk_{chunk}",
    # consolidate
    "store": "lenses.zarr",
    "table": "parameters.parquet",
    # normalise
    "normalisation": "normalisation.json",
    "split": "split.csv",
    # The models (lenspipe.learning.variants.MODELS), one folder each: {model} is the
    # wildcard of train, calibrate, evaluate and calibration_plot.
    # train, resumable from its work folder (outside the outputs, which a failed job loses)
    "model": "models/{model}/model.keras",
    "history": "models/{model}/history.csv",
    "training_curve": "models/{model}/plots/training_curve.png",
    "train_work": "work/train/{model}",
    # calibrate (models with uncertainties)
    "calibration": "models/{model}/calibration.json",
    # evaluate
    "metrics_json": "models/{model}/metrics.json",
    "predictions": "models/{model}/predictions.csv",
    "metrics_csv": "models/{model}/metrics.csv",
    "predicted_vs_true": "models/{model}/plots/predicted_vs_true.png",
    "residuals": "models/{model}/plots/residuals.png",
    "gallery": "models/{model}/plots/gallery.png",
    # calibration_plot (models with uncertainties)
    "calibration_plot": "models/{model}/plots/calibration.png",
    # survey_gallery, one per survey preset
    "survey_gallery": "plots/surveys/{survey}.png",
    # realism_gallery: the PSFs, source stamps and subhalos of the realism switches
    "realism_gallery": "plots/realism.png",
    # baseline_fit
    "fit_predictions": "baselines/fit/predictions.csv",
    # refine_seeds: the CNN's calibrated predictions of the lenses to refine
    "refine_seeds": "refine/seeds.csv",
    # refine_chunk, one job per chunk of seeds, resumable from the saved parts in its work
    # folder
    "refine_chunk": "refine/chunks/chunk_{chunk}.csv",
    "refine_work": "work/refine/chunk_{chunk}",
    # refine: the chunks merged, the sigmas calibrated
    "refined_predictions": "refine/predictions.csv",
    "refine_calibration": "refine/calibration.json",
    "refine_summary": "refine/summary.json",
    # refine_cutout_seeds, refine_cutout_chunk and refine_cutouts: each set of images of
    # refine.cutouts ({name}) checked, predicted by the CNN and refined like the test lenses
    "cutout_images": "refine/cutouts/{name}/images.npy",
    "cutout_seeds": "refine/cutouts/{name}/seeds.csv",
    "cutout_chunk": "refine/cutouts/{name}/chunks/chunk_{chunk}.csv",
    "cutout_work": "work/refine_cutouts/{name}/chunk_{chunk}",
    "cutout_predictions": "refine/cutouts/{name}/predictions.csv",
    "cutout_summary": "refine/cutouts/{name}/summary.json",
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
    "subset_work": "work/learning_curve/{n_train}",
    # learning_curve
    "learning_curve_table": "learning_curve.csv",
    "learning_curve_plot": "plots/learning_curve.png",
}
# Every job's log and benchmark, in the run folder of its outputs (an independent campaign's
# jobs in the campaign's, under the run's rule names). The stage of a job of many is its rule
# and its wildcards: ``simulate_chunk/{chunk}``, ``train/{model}``.
LOG = "logs/{stage}.log"
BENCHMARK = "benchmarks/{stage}.tsv"

# The whole stage graph of a run, in order. A stage is a rule, or for a rule of the models a
# rule and a model: ``train/cnn``; the declarations below write the model as ``{model}``, and
# ``run_stages`` names the stages of a run. tests/test_layout.py holds this graph to the one
# Snakemake builds from the rules.
STAGES = (
    "simulate_chunk",
    "consolidate",
    "normalise",
    "train/{model}",
    "calibrate/{model}",
    "evaluate/{model}",
    "calibration_plot/{model}",
    "baseline_fit",
    "refine_seeds",
    "refine_chunk",
    "refine",
    "compare",
    "simulate_independent_chunk",
    "consolidate_independent",
    "evaluate_independent",
    "independent_table",
    "train_subset",
    "learning_curve",
    "survey_gallery",
    "realism_gallery",
)
COUNTED_STAGES = {
    "simulate_chunk": "chunk",
    "refine_chunk": "chunk",
    "simulate_independent_chunk": "campaign and chunk",
    "consolidate_independent": "campaign",
    "evaluate_independent": "campaign",
    "train_subset": "training-set size",
    "survey_gallery": "survey preset",
}
"""The stages of one job per chunk, campaign, training-set size or survey preset (what the job
is per): the status counts their jobs."""
STAGE_OUTPUTS = {
    "consolidate": ("store", "table"),
    "normalise": ("normalisation", "split"),
    "train/{model}": ("model", "history"),
    "calibrate/{model}": ("calibration",),
    "evaluate/{model}": ("metrics_json",),
    "calibration_plot/{model}": ("calibration_plot",),
    "baseline_fit": ("fit_predictions",),
    "refine_seeds": ("refine_seeds",),
    "refine": ("refined_predictions", "refine_calibration", "refine_summary"),
    "compare": ("comparison_table", "comparison_summary"),
    "independent_table": ("independent_table",),
    "learning_curve": ("learning_curve_table", "learning_curve_plot"),
    "realism_gallery": ("realism_gallery",),
}
"""The files whose presence means a stage of one job is done (names of ``FILES``)."""
STAGE_NEEDS = {
    "simulate_chunk": (),
    "consolidate": ("simulate_chunk",),
    "normalise": ("consolidate",),
    "train/{model}": ("normalise",),
    "calibrate/{model}": ("train/{model}",),
    "evaluate/{model}": ("train/{model}", "calibrate/{model}"),
    "calibration_plot/{model}": ("evaluate/{model}", "calibrate/{model}"),
    "baseline_fit": ("normalise",),
    "refine_seeds": (f"train/{MAIN_MODEL}", f"calibrate/{MAIN_MODEL}"),
    "refine_chunk": ("consolidate", "refine_seeds"),
    "refine": ("refine_seeds", "refine_chunk"),
    "compare": ("evaluate/{model}", "baseline_fit", "refine"),
    "simulate_independent_chunk": (),
    "consolidate_independent": ("simulate_independent_chunk",),
    "evaluate_independent": (
        "consolidate_independent",
        "normalise",
        f"train/{MAIN_MODEL}",
        f"calibrate/{MAIN_MODEL}",
    ),
    "independent_table": ("evaluate_independent", f"evaluate/{MAIN_MODEL}"),
    "train_subset": ("normalise",),
    "learning_curve": ("train_subset", f"evaluate/{MAIN_MODEL}", "refine"),
    "survey_gallery": (),
    "realism_gallery": (),
}
"""The stages each stage reads the outputs of. In a stage of a model, ``{model}`` is that
model; in another stage, every model."""
UNCERTAINTY_STAGES = ("calibrate/{model}", "calibration_plot/{model}")
"""The stages only a model with uncertainties goes through."""
INDEPENDENT_STAGES = (
    "simulate_independent_chunk",
    "consolidate_independent",
    "evaluate_independent",
    "independent_table",
)
"""The stages of the independent test campaigns (``evaluation.independent_tests``)."""


def fit_baseline_runs(config: dict[str, Any]) -> bool:
    """Whether the workflow runs the fit baseline: not when a lensed quasar or catalogue
    galaxies are simulated, which the fit (a Sersic source, no quasar) does not model."""
    system = config["lens_system"]
    return not system["point_source"] and system["source_catalogue"] is None


def refine_runs(config: dict[str, Any]) -> bool:
    """Whether the workflow refines test lenses (``refine``): when it asks for any, the fit's
    model can model the system (``fit_baseline_runs``) and the main model predicts the
    uncertainties that seed and confine each fit."""
    return (
        config["refine"]["n_lenses"] != 0
        and fit_baseline_runs(config)
        and predicts_uncertainties(config, MAIN_MODEL)
    )


def refine_chunk_file(run: Path, chunk: int) -> Path:
    return run_file(run, "refine_chunk", chunk=chunk_name(chunk))


def refine_work_dir(run: Path, chunk: int) -> Path:
    return run_file(run, "refine_work", chunk=chunk_name(chunk))


def cutout_chunk_file(run: Path, name: str, chunk: int) -> Path:
    return run_file(run, "cutout_chunk", name=name, chunk=chunk_name(chunk))


def skipped_stages(config: dict[str, Any]) -> set[str]:
    """The stages of ``STAGES`` (models filled in) that the workflow does not run for
    ``config``."""
    evaluation = config["evaluation"]
    skipped = set() if fit_baseline_runs(config) else {"baseline_fit"}
    if not refine_runs(config):
        skipped |= {"refine_seeds", "refine_chunk", "refine"}
    for model in MODELS:
        if not predicts_uncertainties(config, model):
            skipped |= {stage.format(model=model) for stage in UNCERTAINTY_STAGES}
    if not evaluation["independent_tests"]:
        skipped |= set(INDEPENDENT_STAGES)
    if not evaluation["learning_curve"]:
        skipped |= {"train_subset", "learning_curve"}
    if not evaluation["survey_galleries"]:
        skipped.add("survey_gallery")
    if not realism_switches(config):
        skipped.add("realism_gallery")
    return skipped


def run_stages(config: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The stages that the workflow runs for ``config``, in order (a stage of the models once
    per model, in the order of ``MODELS``), each with the stages it reads the outputs of."""
    skipped = skipped_stages(config)
    stages = {}
    for declared in STAGES:
        for model in MODELS if "{model}" in declared else [None]:
            stage = declared.format(model=model)
            if stage in skipped:
                continue
            needs = [found for need in STAGE_NEEDS[declared] for found in _needs(need, model)]
            stages[stage] = tuple(need for need in needs if need not in skipped)
    return stages


def single_job(stage: str) -> bool:
    """Whether ``stage`` (of ``run_stages``) is one job, with ``stage_outputs``, a log and a
    benchmark of its own (not a stage of ``COUNTED_STAGES``)."""
    return stage not in COUNTED_STAGES


def _needs(need: str, model: str | None) -> list[str]:
    """The stages a declared need names in a stage of ``model`` (None: not a model's)."""
    if "{model}" not in need:
        return [need]
    return [need.format(model=other) for other in ([model] if model else MODELS)]


def stage_rule(stage: str) -> str:
    """The rule of a stage of ``run_stages``: ``train`` for ``train/cnn``."""
    return stage.partition("/")[0]


def stage_wildcards(stage: str) -> dict[str, str]:
    """The wildcards of a stage of ``run_stages``: ``{"model": "cnn"}`` for ``train/cnn``."""
    model = stage.partition("/")[2]
    return {"model": model} if model else {}


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
    return stage_log(run, f"simulate_chunk/{chunk_name(chunk)}")


def chunk_benchmark(run: Path, chunk: int) -> Path:
    return stage_benchmark(run, f"simulate_chunk/{chunk_name(chunk)}")


def refine_chunk_log(run: Path, chunk: int) -> Path:
    return stage_log(run, f"refine_chunk/{chunk_name(chunk)}")


def refine_chunk_benchmark(run: Path, chunk: int) -> Path:
    return stage_benchmark(run, f"refine_chunk/{chunk_name(chunk)}")


def stage_log(run: Path, stage: str) -> Path:
    return run / LOG.format(stage=stage)


def stage_benchmark(run: Path, stage: str) -> Path:
    return run / BENCHMARK.format(stage=stage)


def stage_outputs(run: Path, stage: str) -> list[Path]:
    """The files whose presence means ``stage`` (a ``single_job`` stage of ``run_stages``) is
    done."""
    wildcards = stage_wildcards(stage)
    declared = f"{stage_rule(stage)}/{{model}}" if wildcards else stage
    return [run_file(run, name, **wildcards) for name in STAGE_OUTPUTS[declared]]


def training_history_in_progress(run: Path, model: str) -> Path:
    return run_file(run, "train_work", model=model) / HISTORY_IN_PROGRESS


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
