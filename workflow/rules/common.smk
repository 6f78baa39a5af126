import sys
from pathlib import Path

# The lenspipe package lives in scripts/. This is the one place that makes it importable: here,
# and, through export_to_jobs (PYTHONPATH), in every job, ahead of any other copy installed.
PACKAGE_DIR = str(Path(workflow.basedir) / "scripts")
sys.path.insert(0, PACKAGE_DIR)

from lenspipe.runs.package_path import export_to_jobs

export_to_jobs(PACKAGE_DIR)

import dataclasses
import re

from lenspipe.config import (
    independent_test_configs,
    learning_curve_sizes,
    realism_switches,
    training_subset_size,
    validated_settings,
)
from lenspipe.data.chunk_files import chunk_count
from lenspipe.errors import ConfigError
from lenspipe.evaluation.image_files import image_count
from lenspipe.refinement.selection import refine_counts
from lenspipe.learning.variants import MAIN_MODEL, MODELS, has_uncertainties, model_settings
from lenspipe.runs.training_resume import not_resumed
from lenspipe.runs import layout
from lenspipe.runs.driver_record import remove_driver_record, write_driver_record
from lenspipe.runs.slurm_preflight import JobRequest, check_requests, gpu_request
from lenspipe.settings import simulation_settings

# Fills the schema defaults in place and stops with a message naming the field, before any
# job is planned or anything is written; the message is the whole output (no traceback).
# SETTINGS: the run's typed, immutable settings (lenspipe.settings.Settings), built once here.
try:
    SETTINGS = validated_settings(config)
except ConfigError as error:
    sys.exit(f"Config error: {error}")
# The training targets, in order: the columns every model predicts.
TARGETS = list(SETTINGS.targets)

# The run's folder; every path in it is declared once, in lenspipe.runs.layout.FILES.
RUN = layout.run_dir(config)
RUN_DIR = Path(RUN)
# The folder of independent test campaign {name}: a run folder of its own.
CAMPAIGN = f"{RUN}/{layout.FILES['campaign']}"
N_CHUNKS = chunk_count(SETTINGS.simulation.n_lenses, SETTINGS.simulation.chunk_size)
# Rules receive their settings as params, not through the global config: Snakemake records
# params, so a job reruns when a setting it depends on changes (and only then).
SIMULATION = SETTINGS.simulation.record()
# The settings each model (lenspipe.learning.variants.MODELS; the {model} wildcard) is trained
# and evaluated with: the params of its jobs, so a model retrains only when its own change.
MODEL_SETTINGS = {model: model_settings(config, model) for model in MODELS}
# The models that predict uncertainties: only they are calibrated and get a calibration plot.
MODELS_WITH_UNCERTAINTIES = [
    model for model, settings in MODEL_SETTINGS.items() if has_uncertainties(settings)
]
# The simulation settings of each independent test campaign (evaluation.independent_tests), by
# name: the run's, with the campaign's seed, lens count and overrides.
INDEPENDENT_TESTS = {
    name: simulation_settings(campaign)
    for name, campaign in independent_test_configs(config).items()
}
# The refinement (refine): how many calibration and test lenses, and how each is searched
# (lenspipe.settings.RefineSearch); REFINE_CHUNKS jobs of refine.chunk_size lenses.
REFINE = SETTINGS.refine
REFINE_COUNTS = refine_counts(config)
REFINE_SEARCH = dataclasses.asdict(REFINE.search)
REFINE_CHUNKS = chunk_count(sum(REFINE_COUNTS.values()), REFINE.chunk_size)
# The sets of images of refine.cutouts, by name (the {name} of the refine_cutout rules), and
# how many images each file holds (its header, read when the config was checked).
CUTOUTS = REFINE.cutouts
IMAGE_SHAPE = SETTINGS.simulation.image.shape
CUTOUT_COUNTS = {name: image_count(path, IMAGE_SHAPE) for name, path in CUTOUTS.items()}
# The training-set sizes of the learning curve (evaluation.learning_curve) that get a model of
# their own, smallest first; the full training subset is the train rule's model.
LEARNING_CURVE_SIZES = learning_curve_sizes(config)


# {model} is one of the known models, whatever a requested path says.
wildcard_constraints:
    model="|".join(re.escape(model) for model in MODELS),


def run_path(name):
    """The run's file ``name`` (lenspipe.runs.layout.FILES), its wildcards left to the rule."""
    return f"{RUN}/{layout.FILES[name]}"


def campaign_path(name):
    """File ``name`` of an independent test campaign (wildcard ``name``): campaigns keep the
    run's layout in a folder of their own."""
    return f"{RUN}/{layout.FILES['campaign']}/{layout.FILES[name]}"


def log_path(stage, folder=RUN):
    """The log of ``stage`` in run folder ``folder``."""
    return f"{folder}/{layout.LOG.format(stage=stage)}"


def benchmark_path(stage, folder=RUN):
    """The benchmark file of ``stage`` in run folder ``folder``."""
    return f"{folder}/{layout.BENCHMARK.format(stage=stage)}"


def model_file(name, model):
    """The run's file ``name`` of model ``model``."""
    return run_path(name).format(model=model)


def settings_of_model(wildcards):
    """The settings of model ``{model}``: the params of its jobs."""
    return MODEL_SETTINGS[wildcards.model]


# On a few local cores the main model's training is the longest job and everything after it
# waits for it: the jobs on the way to it (simulation, consolidation, normalisation) and the
# training itself go first, and the galleries, independent test sets and other models fill
# the cores around and after it. (Snakemake's scheduler puts priority before core load.)
MAIN_CHAIN_PRIORITY = 1


def train_priority(wildcards):
    """Scheduling priority of a train job: ``MAIN_CHAIN_PRIORITY`` for a model the registry
    puts first on local cores (the main model), else 0."""
    return MAIN_CHAIN_PRIORITY if MODELS[wildcards.model].first_on_local_cores else 0


def train_threads(wildcards):
    """Local cores of a train job, from the model registry; on a cluster the profile's
    set-threads decides."""
    return MODELS[wildcards.model].local_threads


def calibration_of(model):
    """The calibration of model ``model``; none for a model without uncertainties."""
    return model_file("calibration", model) if model in MODELS_WITH_UNCERTAINTIES else []


def calibration_of_model(wildcards):
    """The calibration of model ``{model}``, if it has uncertainties."""
    return calibration_of(wildcards.model)


def model_results(wildcards):
    """Every model's test evaluation, and the calibration plot of those with uncertainties."""
    evaluated = expand(rules.evaluate.output, model=MODELS)
    plots = [model_file("calibration_plot", model) for model in MODELS_WITH_UNCERTAINTIES]
    return evaluated + plots


def main_model_calibration(wildcards):
    """The calibration of the main model (the independent tests'), if it has uncertainties."""
    return calibration_of(MAIN_MODEL)


def survey_galleries(wildcards):
    """The survey-preset galleries the config asks for (evaluation.survey_galleries)."""
    surveys = SETTINGS.evaluation.survey_galleries
    return [str(layout.survey_gallery_file(RUN_DIR, survey)) for survey in surveys]


def realism_gallery(wildcards):
    """The figure of the realism switches' ingredients, when any is on (pixel PSFs, catalogue
    sources, subhalos)."""
    return [run_path("realism_gallery")] if realism_switches(config) else []


def fit_predictions(wildcards):
    """The fit baseline's predictions, unless a lensed quasar (which the fit does not model)
    is simulated: then the comparison has no fit column."""
    if not layout.fit_baseline_runs(config):
        return []
    return rules.baseline_fit.output.predictions


def refined_predictions(wildcards):
    """The refined test lenses, when the run refines any (refine.n_lenses; not for a
    system the fit does not model): then the comparison has a refined column."""
    if not layout.refine_runs(config):
        return []
    return rules.refine.output.predictions


def refine_summary(wildcards):
    """The refinement's summary, when the run refines (``refined_predictions``)."""
    return rules.refine.output.summary if layout.refine_runs(config) else []


def refine_chunk_files(wildcards):
    """Every refine chunk file of the run, in row order."""
    return [str(layout.refine_chunk_file(RUN_DIR, chunk)) for chunk in range(REFINE_CHUNKS)]


def cutout_file(wildcards):
    """The file of images of set ``{name}`` of refine.cutouts."""
    return CUTOUTS[wildcards.name]


def cutout_chunk_files(wildcards):
    """Every refine chunk file of set ``{name}`` of refine.cutouts, in image order."""
    chunks = chunk_count(CUTOUT_COUNTS[wildcards.name], REFINE.chunk_size)
    return [
        str(layout.cutout_chunk_file(RUN_DIR, wildcards.name, chunk)) for chunk in range(chunks)
    ]


def refined_calibration(wildcards):
    """The calibration of the refined sigmas on the run's own validation lenses, when it
    refines with any (refine.n_calibration); cutouts take its factors."""
    if not layout.refine_runs(config) or REFINE_COUNTS["calibration"] == 0:
        return []
    return rules.refine.output.calibration


def chunk_files(wildcards):
    """Every chunk file of the run, in lens order."""
    return [str(layout.chunk_file(RUN_DIR, chunk)) for chunk in range(N_CHUNKS)]


def independent_simulation(wildcards):
    """The simulation settings of independent test campaign ``name``."""
    return INDEPENDENT_TESTS[wildcards.name]


def independent_chunk_files(wildcards):
    """Every chunk file of independent test campaign ``name``, in lens order."""
    settings = INDEPENDENT_TESTS[wildcards.name]
    campaign = layout.campaign_dir(RUN_DIR, wildcards.name)
    chunks = chunk_count(settings["n_lenses"], settings["chunk_size"])
    return [str(layout.chunk_file(campaign, chunk)) for chunk in range(chunks)]


def independent_predictions(wildcards):
    """The main model's predictions on every independent test campaign, in config order."""
    return [
        str(layout.run_file(layout.campaign_dir(RUN_DIR, name), "predictions", model=MAIN_MODEL))
        for name in INDEPENDENT_TESTS
    ]


def independent_tests_table(wildcards):
    """The side-by-side table of the test split and the campaigns, if there are campaigns."""
    return [run_path("independent_table")] if INDEPENDENT_TESTS else []


def learning_curve_predictions(wildcards):
    """The test predictions of the learning curve's model of each smaller training set,
    smallest first."""
    return [str(layout.learning_curve_predictions(RUN_DIR, n)) for n in LEARNING_CURVE_SIZES]


def learning_curve_outputs(wildcards):
    """The learning curve's table and figure, if evaluation.learning_curve lists sizes."""
    if not SETTINGS.evaluation.learning_curve:
        return []
    return [str(path) for path in layout.learning_curve_outputs(RUN_DIR)]


def slurm_requests():
    """What each rule that will run asks SLURM for, on every attempt the retries allow.

    Reads Snakemake's job graph (workflow.dag) and evaluates each rule's resources as the
    executor will, once per rule and model (the train rule asks a model of its own for a
    GPU); tests/test_slurm.py runs this against a real SLURM on every CI run.
    """
    first_job = {}
    for job in workflow.dag.needrun_jobs():
        if not job.is_local:
            first_job.setdefault((job.rule.name, job.wildcards_dict.get("model")), job)
    requests = []
    for (rule_name, _), job in first_job.items():
        for attempt in range(1, workflow.execution_settings.retries + 2):
            resources = job.rule.expand_resources(job.wildcards_dict, job.input, attempt)
            gpus, gpu_type = gpu_request(resources)
            requests.append(
                JobRequest(
                    rule_name=rule_name,
                    attempt=attempt,
                    partition=resources.get("slurm_partition"),
                    runtime_minutes=resources.get("runtime"),
                    mem_mb=resources.get("mem_mb"),
                    gpus=gpus,
                    gpu_type=gpu_type,
                    constraint=resources.get("constraint") or None,
                )
            )
    return requests


# Before anything is submitted to SLURM: stop with one message if a partition, runtime, memory,
# GPU (gres or gpu) or constraint request cannot be met, rather than failing (or pending for
# ever) job by job.
onstart:
    if workflow.executor_plugin.name == "slurm":
        print(check_requests(slurm_requests()), file=sys.stderr)
    # A training in progress that its next job will not resume (a setting changed): said here,
    # in the driver's output, not only in that job's log.
    for model in MODELS:
        notice = not_resumed(Path(RUN), model, MODEL_SETTINGS[model], SETTINGS.simulation.seed)
        if notice:
            print(f"lenspipe: {notice}", file=sys.stderr)
    # Where this driver runs (host, pid, SLURM job), next to Snakemake's lock, for the status
    # command; removed when the driver ends by itself, left behind (like the lock) when killed.
    write_driver_record()


onsuccess:
    remove_driver_record()


onerror:
    remove_driver_record()
