"""The status of the stages after the chunks, from their outputs, the record at the top of
their logs, their histories in progress, and SLURM."""

from pathlib import Path
from typing import Any

from lenspipe.config import learning_curve_sizes, realism_switches
from lenspipe.data.store_check import damaged_chunks
from lenspipe.learning.variants import MAIN_MODEL, model_settings
from lenspipe.refinement.selection import refine_chunk_count
from lenspipe.runs import layout
from lenspipe.runs.job_record import read_job_record
from lenspipe.runs.status.causes import attempt_failure
from lenspipe.runs.status.model import ChunkStatus, StageStatus
from lenspipe.runs.status.processes import process_alive
from lenspipe.runs.status.refine_chunks import refine_chunks_state
from lenspipe.runs.status.slurm import ACTIVE_STATES, slurm_log_path
from lenspipe.runs.status.slurm_view import SlurmView

# The stages whose jobs the status counts in the row of a later stage: the independent
# campaigns' in ``independent`` (the row of independent_table), the learning curve's models in
# ``learning_curve``.
_FOLDED = {
    "simulate_independent_chunk",
    "consolidate_independent",
    "evaluate_independent",
    "train_subset",
}


def stage_statuses(
    run_dir: Path,
    config: dict[str, Any],
    run_stages: dict[str, tuple[str, ...]],
    chunks: list[ChunkStatus],
    slurm: SlurmView,
) -> list[StageStatus]:
    """The status of each stage of ``run_stages`` (``layout.run_stages``) after the chunks,
    in order, each waiting while a stage it reads is not done. The refine chunks and the
    survey galleries are counted over their jobs; the independent campaigns are one row,
    ``independent``, and the learning curve's models are counted in its row."""
    done = {"simulate_chunk": all(chunk.state == "finished" for chunk in chunks)}
    evaluated = f"evaluate/{MAIN_MODEL}"
    stages = []
    for stage, needs in run_stages.items():
        if stage == "simulate_chunk" or stage in _FOLDED:
            continue
        if stage == "refine_chunk":
            status = _refine_chunks_status(run_dir, config, done["refine_seeds"], slurm)
        elif stage == "survey_gallery":
            status = _survey_gallery_status(run_dir, config["evaluation"]["survey_galleries"])
        elif stage == "independent_table":
            campaigns = [test["name"] for test in config["evaluation"]["independent_tests"]]
            status = _independent_status(run_dir, campaigns, done[evaluated])
        elif stage == "learning_curve":
            sizes = learning_curve_sizes(config)
            status = _learning_curve_status(run_dir, sizes, done["normalise"], done[evaluated])
        else:
            upstream_done = all(done[need] for need in needs)
            status = _single_job_status(run_dir, config, stage, upstream_done, slurm)
        stages.append(status)
        done[stage] = status.state == "done"
    return stages


def _single_job_status(
    run_dir: Path, config: dict[str, Any], stage: str, upstream_done: bool, slurm: SlurmView
) -> StageStatus:
    """A stage of one job, from its outputs, the record at the top of its log and SLURM."""
    status = _stage_status(run_dir, stage, upstream_done, slurm)
    if status.state == "done" and not upstream_done:
        # Snakemake makes it again once the stage before it is redone.
        status.state = "waiting"
        status.detail = "its outputs are from before a stage it reads, which is redone first"
    if layout.stage_rule(stage) == "train":
        status.detail = _training_progress(run_dir, config, stage, status.state)
    if stage == "consolidate" and status.state == "done":
        _check_store(run_dir, status)
    if stage == "realism_gallery":
        status.detail = ", ".join(realism_switches(config))
    return status


def _refine_chunks_status(
    run_dir: Path, config: dict[str, Any], seeds_done: bool, slurm: SlurmView
) -> StageStatus:
    """The refine_chunk jobs as one stage."""
    state, detail = refine_chunks_state(run_dir, refine_chunk_count(config), seeds_done, slurm)
    if state == "done" and not seeds_done:
        state, detail = "waiting", "its chunks are from before the seeds redone first"
    return StageStatus("refine_chunk", state, detail)


def _survey_gallery_status(run_dir: Path, surveys: list[str]) -> StageStatus:
    """The survey galleries as one stage: they need no simulated lenses."""
    drawn = sum(layout.survey_gallery_file(run_dir, survey).exists() for survey in surveys)
    state = "done" if drawn == len(surveys) else "ready"
    return StageStatus("survey_gallery", state, f"{drawn} of {len(surveys)} presets")


def _check_store(run_dir: Path, status: StageStatus) -> None:
    """Mark a consolidated store whose chunks fail their checksums as ``damaged``; note one
    written before lenspipe checksummed its stores."""
    store = layout.run_file(run_dir, "store")
    damaged = damaged_chunks(store)
    if damaged is None:
        status.detail = "store written without checksums (by a lenspipe before them)"
    elif damaged:
        status.state = "damaged"
        shown = ", ".join(damaged[:3]) + (" ..." if len(damaged) > 3 else "")
        status.detail = f"{len(damaged)} chunk files of {store} fail their checksum: {shown}"


def _stage_status(run_dir: Path, stage: str, upstream_done: bool, slurm: SlurmView) -> StageStatus:
    if all(output.exists() for output in layout.stage_outputs(run_dir, stage)):
        return StageStatus(stage, "done")
    rule = layout.stage_rule(stage)
    # As the slurm executor plugin writes a job's wildcards: their values joined by "_".
    wildcards = "_".join(layout.stage_wildcards(stage).values())
    active = slurm.active_job(rule, wildcards)
    if active is not None:
        return StageStatus(stage, "running", slurm_job_id=active.job_id, slurm_state=active.state)
    if not upstream_done:
        return StageStatus(stage, "waiting")
    log = layout.stage_log(run_dir, stage)
    record = read_job_record(log)
    if record is None:
        return StageStatus(stage, "ready")
    job_id = record["slurm_job_id"]
    slurm.want(job_id)
    slurm.resolve_states()
    state = slurm.state(job_id)
    if state in ACTIVE_STATES or (state is None and process_alive(record["host"], record["pid"])):
        return StageStatus(stage, "running", slurm_job_id=job_id, slurm_state=state)
    slurm_log = slurm_log_path(slurm.workdir, rule, wildcards, job_id) if job_id else None
    failure = attempt_failure(state, slurm_log, log)
    verdict = "interrupted" if failure.cause == "STOPPED" else "failed"
    return StageStatus(stage, verdict, slurm_job_id=job_id, slurm_state=state, failure=failure)


def _independent_status(run_dir: Path, names: list[str], evaluated_run: bool) -> StageStatus:
    """The independent test campaigns as one stage: done when every campaign is evaluated and
    the side-by-side table written; they simulate at any time but evaluate with the model."""
    campaigns = [layout.campaign_dir(run_dir, name) for name in names]
    simulated = sum(layout.run_file(campaign, "store").exists() for campaign in campaigns)
    evaluated = sum(
        layout.run_file(campaign, "metrics_json", model=MAIN_MODEL).exists()
        for campaign in campaigns
    )
    detail = f"{evaluated} of {len(names)} campaigns evaluated, {simulated} simulated"
    if evaluated == len(names) and layout.run_file(run_dir, "independent_table").exists():
        state = "done"
    else:
        state = "ready" if evaluated_run else "waiting"
    return StageStatus("independent", state, detail)


def _learning_curve_status(
    run_dir: Path, sizes: list[int], normalised: bool, evaluated_run: bool
) -> StageStatus:
    """The learning curve as one stage: done when the model of every smaller training set
    has predicted the test subset and the table and figure are written. Its models train once
    the data are normalised; the table also needs the run's own model evaluated."""
    trained = sum(layout.learning_curve_predictions(run_dir, size).exists() for size in sizes)
    written = all(output.exists() for output in layout.learning_curve_outputs(run_dir))
    table = "table written" if written else "table not written"
    detail = f"{trained} of {len(sizes)} training sets trained, {table}"
    for size in sizes:
        text = _read(layout.learning_curve_history_in_progress(run_dir, size))
        if text is not None:
            detail += f"; {size} lenses: {max(len(text.splitlines()) - 1, 0)} epochs"
    if trained == len(sizes) and written:
        state = "done"
    elif normalised and (trained < len(sizes) or evaluated_run):
        state = "ready"
    else:
        state = "waiting"
    return StageStatus("learning_curve", state, detail)


def _training_progress(
    run_dir: Path, config: dict[str, Any], stage: str, state: str
) -> str | None:
    """Epochs done of those asked for, while a model trains or after it stopped midway."""
    model = layout.stage_wildcards(stage)["model"]
    history = (
        layout.run_file(run_dir, "history", model=model)
        if state == "done"
        else layout.training_history_in_progress(run_dir, model)
    )
    text = _read(history)
    if text is None:
        return None
    epochs = max(len(text.splitlines()) - 1, 0)
    return f"{epochs} of up to {model_settings(config, model)['epochs']} epochs"


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
