"""The status command's parts: what it reads from SLURM, journals, logs and benchmark files."""

import datetime
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yte
from conftest import REPO
from lenspipe.runs.chunk_work import JOURNAL_FILE, read_journal
from lenspipe.runs.job_record import PREFIX, job_record, read_job_record, record_line, slurm_job_id
from lenspipe.runs.status.causes import attempt_failure
from lenspipe.runs.status.efficiency import JobUse, profile_lines, read_benchmark, rule_efficiency
from lenspipe.runs.status.processes import process_alive
from lenspipe.runs.status.render import chunk_ranges
from lenspipe.runs.status.slurm import (
    cause_in_slurm_log,
    parse_comment,
    parse_sacct,
    parse_squeue,
    slurm_log_path,
)

# What slurmstepd writes into a job's output file when SLURM ends the job (SLURM 22.05-24.x).
SLURM_MESSAGES = {
    "TIMEOUT": "slurmstepd: error: *** JOB 812 ON node3 CANCELLED AT 2026-11-28T06:01:12 "
    "DUE TO TIME LIMIT ***",
    "PREEMPTED": "slurmstepd: error: *** JOB 812 ON node3 CANCELLED AT 2026-11-28T06:01:12 "
    "DUE TO PREEMPTION ***",
    "NODE_FAIL": "slurmstepd: error: *** JOB 812 ON node3 CANCELLED AT 2026-11-28T06:01:12 "
    "DUE TO NODE FAILURE, SEE SLURMCTLD LOG FOR DETAILS ***",
    "OUT_OF_MEMORY": "slurmstepd: error: Detected 1 oom_kill event in StepId=812.batch. "
    "Some of the step tasks have been OOM Killed.",
    "CANCELLED": "slurmstepd-node3: error: *** JOB 812 ON node3 CANCELLED AT 2026-11-28T06:01:12 ***",
}


@pytest.mark.parametrize("cause", SLURM_MESSAGES)
def test_slurm_log_messages_give_the_cause(cause):
    text = f"Building DAG of jobs...\n{SLURM_MESSAGES[cause]}\n"
    assert cause_in_slurm_log(text) == cause


def test_a_log_without_a_slurm_message_has_no_cause():
    assert cause_in_slurm_log("Building DAG of jobs...\nFinished job 0.\n") is None


def test_squeue_lines_are_filtered_to_this_workflow_folder(tmp_path):
    other = tmp_path / "other"
    output = "\n".join(
        [
            f"41|RUNNING|None|rule_simulate_chunk_wildcards_00003|{tmp_path}",
            f"42|PENDING|Priority|rule_train|{tmp_path}",
            f"43|RUNNING|None|rule_simulate_chunk_wildcards_00001|{other}",
            f"44|RUNNING|None|an interactive job|{tmp_path}",
        ]
    )
    jobs = parse_squeue(output, tmp_path)
    assert [(j.job_id, j.state, j.reason, j.rule, j.wildcards) for j in jobs] == [
        ("41", "RUNNING", "None", "simulate_chunk", "00003"),
        ("42", "PENDING", "Priority", "train", ""),
    ]


def test_array_tasks_do_not_take_the_wildcards_of_the_arrays_first_job(tmp_path):
    # The plugin gives every task of an array the comment of its first job.
    output = "\n".join(
        [
            f"50_1|RUNNING|None|rule_simulate_chunk_wildcards_00003|{tmp_path}",
            f"50_2|PENDING|Resources|rule_simulate_chunk_wildcards_00003|{tmp_path}",
            f"52|RUNNING|None|rule_simulate_chunk_wildcards_00002|{tmp_path}",
        ]
    )
    jobs = parse_squeue(output, tmp_path)
    assert [(j.job_id, j.rule, j.wildcards, j.array_task) for j in jobs] == [
        ("50_1", "simulate_chunk", None, True),
        ("50_2", "simulate_chunk", None, True),
        ("52", "simulate_chunk", "00002", False),
    ]


def test_slurm_logs_of_array_tasks_are_named_after_the_array_and_task(tmp_path):
    logs = tmp_path / ".snakemake/slurm_logs/rule_simulate_chunk"
    assert slurm_log_path(tmp_path, "simulate_chunk", "00003", "57") == logs / "00003/57.log"
    assert slurm_log_path(tmp_path, "simulate_chunk", "00003", "50_2") == logs / "50_2.log"


@pytest.mark.parametrize(
    "environment, expected",
    [
        ({}, None),
        ({"SLURM_JOB_ID": "61"}, "61"),
        ({"SLURM_JOB_ID": "62", "SLURM_ARRAY_JOB_ID": "60", "SLURM_ARRAY_TASK_ID": "3"}, "60_3"),
    ],
)
def test_a_job_names_itself_as_squeue_does(monkeypatch, environment, expected):
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert slurm_job_id() == expected


def test_comments_with_underscores_in_rule_and_wildcards():
    assert parse_comment("rule_simulate_chunk_wildcards_a_b") == ("simulate_chunk", "a_b")
    assert parse_comment("not_ours") is None


def test_sacct_states_drop_the_canceller():
    assert parse_sacct("7|TIMEOUT\n8|CANCELLED by 1001\n9|RUNNING\n") == {
        "7": "TIMEOUT",
        "8": "CANCELLED",
        "9": "RUNNING",
    }


def test_journal_lines_become_attempts(tmp_path):
    journal = tmp_path / JOURNAL_FILE
    journal.write_text(
        "2026-11-28T06:00:00+00:00 [SLURM job 7] [host n1 pid 11] attempt started: "
        "0 of 20 lenses already saved\n"
        "2026-11-28T06:02:00+00:00 [SLURM job 9] [host n2 pid 12] settings changed: removed 0 "
        "saved parts\n"
        "2026-11-28T06:02:00+00:00 [SLURM job 9] [host n2 pid 12] attempt started: "
        "10 of 20 lenses already saved (platform: x86_64 AMD EPYC 7763 64-Core Processor)\n"
        "2026-11-28T06:03:00+00:00 [SLURM job 9] [host n2 pid 12] finished: chunk written\n"
        "2026-11-28T07:00:00+00:00 attempt started: 5 of 20 lenses already saved\n"
    )
    attempts = read_journal(tmp_path)
    assert [(a.slurm_job_id, a.host, a.pid, a.saved_before, a.finished) for a in attempts] == [
        ("7", "n1", 11, 0, False),
        ("9", "n2", 12, 10, True),
        (None, None, None, 5, False),
    ]
    assert [a.platform for a in attempts] == [
        None,  # journals from before lenspipe recorded the processor
        "x86_64 AMD EPYC 7763 64-Core Processor",
        None,
    ]
    assert attempts[0].started == datetime.datetime(2026, 11, 28, 6, tzinfo=datetime.UTC)
    assert read_journal(tmp_path / "missing") == []


class Resources(dict):
    """Snakemake's resources object answers ``get`` like a dict."""


def test_job_record_round_trips_through_the_first_log_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "1234")
    record = job_record("train", {}, 8, Resources(runtime=360, mem_mb=16000, tmpdir="/tmp"))
    log = tmp_path / "train.log"
    log.write_text(record_line(record) + "Epoch 1/50\n")
    read = read_job_record(log)
    assert read["slurm_job_id"] == "1234" and read["threads"] == 8
    assert (read["runtime_minutes"], read["mem_mb"]) == (360, 16000)
    log.write_text("Epoch 1/50\n")
    assert read_job_record(log) is None
    assert read_job_record(tmp_path / "missing.log") is None
    assert PREFIX not in log.read_text()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_slurm_state_outranks_the_log_and_a_traceback_outranks_a_plain_failure(tmp_path):
    slurm_log = write(
        tmp_path / "812.log", f"Building DAG\n{SLURM_MESSAGES['TIMEOUT']}\nsrun: error\n"
    )
    traceback = "Traceback (most recent call last):\n  File x\nValueError: bad prior\n"
    rule_log = write(tmp_path / "rule.log", traceback)

    assert attempt_failure("OUT_OF_MEMORY", slurm_log, rule_log).cause == "OUT_OF_MEMORY"
    timeout = attempt_failure(None, slurm_log, rule_log)
    assert (timeout.cause, timeout.log) == ("TIMEOUT", str(slurm_log))
    assert timeout.last_lines == [SLURM_MESSAGES["TIMEOUT"]]
    error = attempt_failure("FAILED", None, rule_log)
    assert error.cause == "PYTHON_ERROR"
    assert error.last_lines[-1] == "ValueError: bad prior"
    assert error.log == str(rule_log)
    write(rule_log, "lenses: 40%\n")
    assert attempt_failure("FAILED", None, rule_log).cause == "FAILED"
    stopped = attempt_failure(None, None, rule_log)
    assert (stopped.cause, stopped.last_lines) == ("STOPPED", ["lenses: 40%"])


def test_benchmark_files_give_wall_time_and_peak_memory(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    path = write(tmp_path / "b.tsv", header + "61.5\t0:01:01\t512.25\t900\t-\t-\t0\t0\t98\t60\n")
    assert read_benchmark(path) == (61.5, 512.25)
    write(path, header + "3.0\t0:00:03\t-\t-\t-\t-\t-\t-\t-\t-\n")
    assert read_benchmark(path) == (3.0, None)
    assert read_benchmark(tmp_path / "missing.tsv") is None


def use(seconds: float, rss: float, runtime: float = 30, mem: float = 2000) -> JobUse:
    return JobUse(seconds, rss, runtime, mem, on_slurm=True)


def test_oversized_requests_get_a_smaller_suggestion_that_keeps_a_margin():
    summary = rule_efficiency("simulate_chunk", [use(120, 300), use(240, 420)], [])
    assert summary.runtime_share == pytest.approx(4 / 30)
    assert summary.memory_share == pytest.approx(420 / 2000)
    assert summary.verdicts == ["runtime oversized", "memory oversized"]
    assert summary.suggested_runtime_minutes == 10  # 2 x 4 min, rounded up to 5, floor 10
    assert summary.suggested_mem_mb == 1000  # 1.5 x 420 MB, floor 1000


def test_jobs_near_their_limit_or_retried_get_more():
    near = rule_efficiency("train", [use(27 * 60, 1900)], [])
    assert near.verdicts == ["runtime near its limit", "memory near its limit"]
    assert (near.suggested_runtime_minutes, near.suggested_mem_mb) == (55, 3000)
    retried = rule_efficiency("simulate_chunk", [use(40 * 60, 900, runtime=60)], ["TIMEOUT"])
    assert retried.verdicts == ["needed more runtime than its first request"]
    assert retried.suggested_runtime_minutes == 80 and retried.suggested_mem_mb is None


def test_well_sized_and_local_jobs_get_no_suggestion():
    fine = rule_efficiency("consolidate", [use(15 * 60, 1000)], [])
    assert fine.verdicts == [] and profile_lines([fine]) == []
    local = rule_efficiency("train", [JobUse(5.0, 300.0, None, 1000, on_slurm=False)], [])
    assert local.runtime_share is None and local.memory_share is None
    assert local.verdicts == []


def namespace(attempt: int, model: str) -> dict:
    """What Snakemake evaluates a job's resource expression with."""
    return {"attempt": attempt, "min": min, "wildcards": SimpleNamespace(model=model)}


def test_profile_lines_in_the_amarel_profile_give_the_suggestion_within_its_limits():
    """Pasted over the profile's set-resources, the suggested lines render (yte, as Snakemake
    does) to expressions that give the suggestion, doubled on retry, capped at 3 days."""
    chunk = rule_efficiency("simulate_chunk", [use(240, 420)], [])
    train = rule_efficiency("train/naive", [use(30000, 420)], [])
    cnn = rule_efficiency("train/cnn", [use(3000, 12000, runtime=90, mem=16000)], [])  # fits
    subset = rule_efficiency("train_subset", [use(2400, 1500)], [])  # near its 30 minutes
    lines = profile_lines([chunk, train, cnn, subset])
    profile_text = (REPO / "profiles" / "amarel" / "config.v9+.yaml").read_text()
    before, _ = profile_text.split("\nset-resources:\n")
    profile = yte.process_yaml(before + "\n" + "\n".join(lines) + "\n")
    resources = profile["set-resources"]
    runtime = resources["simulate_chunk"]["runtime"]
    assert [eval(runtime, {"attempt": a}) for a in (1, 2, 10)] == [10, 20, 3 * 1440]
    memory = resources["simulate_chunk"]["mem_mb"]
    assert [eval(memory, {"attempt": a}) for a in (1, 2)] == [1000, 2000]
    train_runtime = resources["train"]["runtime"]
    assert [eval(train_runtime, namespace(a, "naive")) for a in (1, 4)] == [1000, 3 * 1440]
    # The CNN keeps its own request, the same on every attempt, as does a GPU job's suggestion.
    assert {eval(train_runtime, namespace(a, "cnn")) for a in (1, 4)} == {90}
    assert eval(resources["train"]["mem_mb"], namespace(3, "cnn")) == 16000
    subset_runtime = str(resources["train_subset"]["runtime"])
    assert {eval(subset_runtime, namespace(a, "cnn")) for a in (1, 4)} == {80}


def test_chunk_ranges_are_compressed():
    assert chunk_ranges([0, 1, 2, 5, 7, 8]) == "00000-00002, 00005, 00007-00008"


def test_a_python_process_counts_as_alive_until_it_ends():
    host = socket.gethostname()
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout.readline() == b"up\n"
        assert process_alive(host, child.pid) is True
        assert process_alive("another-node", child.pid) is None
    finally:
        child.kill()
        child.wait()
    assert process_alive(host, child.pid) is False
    sleeper = subprocess.Popen(["sleep", "30"])  # alive, but not a Python job
    cmdline = Path(f"/proc/{sleeper.pid}/cmdline")
    while not cmdline.read_bytes().startswith(b"sleep"):  # until it has replaced the fork
        time.sleep(0.01)
    try:
        assert process_alive(host, sleeper.pid) is False
    finally:
        sleeper.kill()
        sleeper.wait()


def _touch_outputs(tmp_path, config, stages, store=None):
    """A run folder of ``config`` with every chunk file (simulated and refined), survey
    gallery and output of ``stages`` (the zarr ``store`` copied in, if given); returns its
    status."""
    from lenspipe.data.chunk_files import chunk_count
    from lenspipe.refinement.selection import refine_chunk_count
    from lenspipe.runs import layout
    from lenspipe.runs.status.campaign import collect_status

    run = tmp_path / "results" / config["run_name"]
    outputs = [
        layout.chunk_file(run, chunk)
        for chunk in range(chunk_count(config["n_lenses"], config["chunk_size"]))
    ]
    if layout.refine_runs(config):
        outputs += [
            layout.refine_chunk_file(run, chunk) for chunk in range(refine_chunk_count(config))
        ]
    outputs += [
        output
        for stage in filter(layout.single_job, stages)
        for output in layout.stage_outputs(run, stage)
    ]
    outputs += [
        layout.survey_gallery_file(run, s) for s in config["evaluation"]["survey_galleries"]
    ]
    for output in outputs:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.touch()
    if store is not None:
        target = layout.run_file(run, "store")
        target.unlink()
        shutil.copytree(store, target)
    return collect_status(tmp_path, config, ["config/test.yaml"])


def test_a_damaged_store_is_reported_and_holds_the_stages_after_it(tmp_path, small_store):
    from lenspipe.runs import layout
    from lenspipe.runs.status.campaign import collect_status

    config, store = small_store[:2]
    stages = layout.run_stages(config)
    intact = _touch_outputs(tmp_path / "intact", config, stages, store=store)
    assert {stage.state for stage in intact.stages} == {"done"}

    _touch_outputs(tmp_path / "damaged", config, stages, store=store)
    chunk = sorted(path for path in (store / "images" / "c").rglob("*") if path.is_file())[0]
    name = str(chunk.relative_to(store))
    run = tmp_path / "damaged" / "results" / config["run_name"]
    with open(layout.run_file(run, "store") / name, "r+b") as handle:
        handle.seek(40)
        handle.write(bytes(range(32)))
    status = collect_status(tmp_path / "damaged", config, ["config/test.yaml"])
    states = {stage.stage: stage for stage in status.stages}
    assert states["consolidate"].state == "damaged" and name in states["consolidate"].detail
    # After the store is made again, Snakemake redoes every stage after it.
    after = [stage for stage in status.stages[1:] if stage.stage != "survey_gallery"]
    assert [stage.stage for stage in after if stage.state != "waiting"] == []
    assert status.resume.stages_to_run == ["consolidate"] + [stage.stage for stage in after]
    [advice] = status.resume.advice
    assert advice.startswith("consolidate: 1 chunk files") and "delete the store" in advice


@pytest.mark.parametrize("quasar", [True, False])
def test_the_status_follows_the_stages_the_workflow_runs(tmp_path, quasar):
    """A run with a lensed quasar has no fit baseline (the workflow skips it): with every
    other output present it is complete. Without a quasar, the missing fit is what is left,
    and the comparison that reads it."""
    from conftest import small_config
    from lenspipe.runs import layout

    config = small_config(lens_system={"point_source": quasar})
    stages = [stage for stage in layout.run_stages(config) if stage != "baseline_fit"]
    status = _touch_outputs(tmp_path, config, stages)
    stages = {stage.stage: stage.state for stage in status.stages}
    if quasar:
        assert "baseline_fit" not in stages and set(stages.values()) == {"done"}
        assert not status.resume.needed
    else:
        # The comparison reads the fit: Snakemake makes it again after the fit.
        assert stages["baseline_fit"] == "ready" and stages["compare"] == "waiting"
        assert status.resume.stages_to_run == ["baseline_fit", "compare"]


def test_outputs_of_a_stage_after_one_being_redone_are_not_done(tmp_path):
    """A calibration beside a training that is being redone (Snakemake removed its model when
    the job started) waits for it, as Snakemake would make it again."""
    from conftest import small_config
    from lenspipe.runs import layout

    config = small_config()
    stages = [stage for stage in layout.run_stages(config) if stage != "train/cnn"]
    status = _touch_outputs(tmp_path, config, stages)
    states = {stage.stage: stage for stage in status.stages}
    assert states["train/cnn"].state == "ready"
    for stage in ("calibrate/cnn", "evaluate/cnn", "refine_seeds", "compare"):
        assert states[stage].state == "waiting" and "redone first" in states[stage].detail
    assert states["train/naive"].state == states["evaluate/naive"].state == "done"


def test_each_model_is_a_stage_and_one_models_missing_evaluation_holds_the_comparison(
    tmp_path,
):
    from conftest import small_config
    from lenspipe.runs import layout

    config = small_config()
    missing = {"evaluate/naive", "compare"}
    status = _touch_outputs(
        tmp_path, config, [stage for stage in layout.run_stages(config) if stage not in missing]
    )
    stages = {stage.stage: stage.state for stage in status.stages}
    assert stages["train/naive"] == "done" and stages["evaluate/cnn"] == "done"
    assert (stages["evaluate/naive"], stages["compare"]) == ("ready", "waiting")
    assert status.resume.stages_to_run == ["evaluate/naive", "compare"]
    # The naive model has no uncertainties: it is never calibrated.
    assert "calibrate/cnn" in stages and "calibrate/naive" not in stages
    assert "calibration_plot/naive" not in stages


def test_a_cnn_without_uncertainties_has_no_calibration_stages(tmp_path):
    from conftest import small_config
    from lenspipe.runs import layout

    config = small_config(training={"loss": "mse"})
    status = _touch_outputs(tmp_path, config, list(layout.run_stages(config)))
    stages = {stage.stage: stage.state for stage in status.stages}
    assert not [stage for stage in stages if stage.startswith("calibrat")]
    assert set(stages.values()) == {"done"} and not status.resume.needed


def test_removed_chunk_files_count_as_finished_only_in_a_store_of_these_settings(
    tmp_path, small_store
):
    """Snakemake does not remake chunk files removed after consolidation, unless the
    simulation settings changed: then it simulates every chunk again."""
    from lenspipe.runs import layout
    from lenspipe.runs.status.campaign import collect_status

    config, store = small_store[:2]
    _touch_outputs(tmp_path, config, layout.run_stages(config), store=store)
    for chunk in (tmp_path / "results" / config["run_name"] / "chunks").glob("chunk_*"):
        chunk.unlink()
    same = collect_status(tmp_path, config, ["config/test.yaml"])
    assert same.counts["finished"] == len(same.chunks) and not same.resume.chunks_to_run
    reseeded = collect_status(tmp_path, dict(config, seed=config["seed"] + 1), [])
    assert reseeded.counts["finished"] == 0
    assert reseeded.resume.lenses_to_simulate == config["n_lenses"]
