"""The Snakemake workflow itself: plan, lint, format, bad config, and a tiny end-to-end run."""

import json
import re
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, SMALL, colour_fraction
from lenspipe.data.store import open_store
from lenspipe.learning.model import load_trained_model
from lenspipe.learning.variants import MODELS
from lenspipe.quiet_tensorflow import CPP_LOG_LINE
from lenspipe.versions import cpu_platform
from workflow_helpers import (
    copy_workflow,
    file_tree,
    job_counts,
    lenspipe_status,
    snakemake,
    status_report,
    workflow_with_config,
)

pytestmark = pytest.mark.workflow


def test_dry_run_plans_100k_lenses_as_one_job_per_chunk(tmp_path):
    result = snakemake("-n", "--cores", "4", cwd=copy_workflow(tmp_path))
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout + result.stderr)
    assert counts["simulate_chunk"] == 10
    assert counts["consolidate"] == counts["calibrate"] == counts["calibration_plot"] == 1
    # The CNN and the naive model go through the same train and evaluate rules.
    assert counts["train"] == counts["evaluate"] == len(MODELS) == 2
    assert counts["baseline_fit"] == counts["compare"] == 1
    assert "baseline_dense" not in counts
    # Each train job's local cores come from the model registry.
    train_jobs = (result.stdout + result.stderr).split("rule train:")[1:]
    jobs = {
        re.search(r"wildcards: model=(\w+)", job).group(1): job.split("\nrule ")[0]
        for job in train_jobs
    }
    threads = {
        model: int((re.search(r"threads: (\d+)", job) or ["", "1"])[1])
        for model, job in jobs.items()
    }
    assert threads == {name: variant.local_threads for name, variant in MODELS.items()}
    first = {model for model, job in jobs.items() if "priority: 1" in job}
    assert first == {name for name, variant in MODELS.items() if variant.first_on_local_cores}
    assert not (tmp_path / "results").exists()


def test_lint_is_clean():
    result = snakemake("--lint", "--cores", "1")
    assert result.returncode == 0
    assert "Congratulations, your workflow is in a good condition" in result.stdout + result.stderr


def test_snakefiles_are_snakefmt_formatted():
    files = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"n_lenses": -5}, "n_lenses"),
        ({"observation": {"band": "q"}}, "observation.band"),
        ({"training": {"targets": ["lens_mass"]}}, "training.targets"),
        ({"observation": {"bands": ["g", "r"]}}, "observation.bands"),
        ({"lensing_cut": {"max_draws": 0}}, "lensing_cut.max_draws"),
        ({"n_lenses": 1000.0}, "n_lenses"),
        ({"run_name": ".."}, "run_name"),
        ({"priors": {"lens": {"theta_E": {"max": float("inf")}}}}, "priors.lens.theta_E.max"),
    ],
)
def test_bad_config_stops_before_any_job_and_writes_nothing(tmp_path, bad, field):
    workdir = copy_workflow(tmp_path / "workflow")
    (workdir / "bad.yaml").write_text(yaml.safe_dump(bad))
    result = snakemake("--cores", "1", "--configfile", "bad.yaml", cwd=workdir)
    assert result.returncode != 0
    # The message is the whole output: one line naming the field, no traceback frames.
    assert "Config error: " in result.stderr and field in result.stderr
    assert 'File "' not in result.stderr and "Traceback" not in result.stderr
    assert not (workdir / "results").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workflow"]


def test_a_damaged_chunk_file_is_named_and_the_rerun_repairs_it(tmp_path):
    workdir = workflow_with_config(tmp_path, "repair")
    table = "results/repair/parameters.parquet"
    chunk = workdir / "results" / "repair" / "chunks" / "chunk_00002.npz"
    first = snakemake(table, "--cores", "2", "--configfile", "config/test.yaml", cwd=workdir)
    assert first.returncode == 0, first.stderr[-3000:]
    original = chunk.read_bytes()
    (workdir / "results" / "repair" / "parameters.parquet").unlink()
    shutil.rmtree(workdir / "results" / "repair" / "lenses.zarr")
    chunk.write_bytes(original[: len(original) // 2])

    failed = snakemake(table, "--cores", "2", "--configfile", "config/test.yaml", cwd=workdir)
    assert failed.returncode != 0
    log = (workdir / "results" / "repair" / "logs" / "consolidate.log").read_text()
    assert "results/repair/chunks/chunk_00002.npz: cannot read chunk file" in log
    assert "results/repair/chunks/damaged/chunk_00002.npz" in log

    rerun = snakemake(table, "--cores", "2", "--configfile", "config/test.yaml", cwd=workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert chunk.read_bytes() == original
    assert job_counts(rerun.stdout + rerun.stderr) == {
        "simulate_chunk": 1,
        "consolidate": 1,
        "total": 2,
    }


def test_jobs_import_their_own_workflows_lenspipe_whatever_else_is_installed(tmp_path):
    """An environment with another lenspipe installed (a decoy that fails on import) ahead of
    the workflow's scripts/ on sys.path: the driver and every job still use the workflow's."""
    environment = tmp_path / "decoy_env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", environment], check=True)
    (site_packages,) = environment.glob("lib/python3*/site-packages")
    decoy = site_packages / "lenspipe"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('the decoy lenspipe was imported')\n")
    # The decoy environment also sees the test environment's packages (snakemake and all).
    (site_packages / "test_environment.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n"
    )
    python = environment / "bin" / "python"
    probe = subprocess.run([python, "-c", "import lenspipe"], capture_output=True, text=True)
    assert "the decoy lenspipe was imported" in probe.stderr

    workdir = workflow_with_config(tmp_path, "decoy")
    target = "results/decoy/normalisation.json"
    result = subprocess.run(
        [python, "-m", "snakemake", target, "--cores", "2", "--configfile", "config/test.yaml"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "decoy" not in (workdir / "results/decoy/logs/normalise.log").read_text()


def test_tiny_run_goes_through_every_rule_and_builds_a_report(tmp_path):
    workdir = copy_workflow(tmp_path)
    tiny = dict(SMALL, run_name="tiny", n_lenses=96, chunk_size=40)
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    result = snakemake("--cores", "2", "--configfile", "tiny.yaml", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    run = workdir / "results" / "tiny"
    assert sorted(p.name for p in (run / "chunks").iterdir()) == [
        "chunk_00000.npz",
        "chunk_00001.npz",
        "chunk_00002.npz",
    ]
    cnn, naive = run / "models" / "cnn", run / "models" / "naive"
    metrics = json.loads((cnn / "metrics.json").read_text())
    targets = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["training"]["targets"]
    assert list(metrics["parameters"]) == targets
    assert metrics["n_test"] == len(pd.read_csv(run / "split.csv").query("subset == 'test'"))
    assert all(np.isfinite(row["rmse"]) for row in metrics["parameters"].values())
    assert all(
        0 <= row["coverage_68"] <= row["coverage_95"] <= 1
        for row in metrics["parameters"].values()
    )
    comparison = pd.read_csv(run / "comparison.csv", index_col="parameter")
    assert list(comparison.index) == targets
    assert np.isfinite(comparison[["rmse_cnn", "rmse_naive", "cnn_over_naive"]]).all().all()
    fits = pd.read_csv(run / "baselines" / "fit" / "predictions.csv")
    assert len(fits) == SMALL["baselines"]["fit"]["n_lenses"] and (fits["seconds"] > 0).all()
    assert (fits["chi2_fit"] > 0).all() and (fits["chi2_truth"] > 0).all()
    assert (fits["chi2_truth_polished"] <= fits["chi2_truth"]).all()
    summary = json.loads((run / "comparison.json").read_text())
    assert summary["cnn_speedup_over_fit"] > 1
    # The tiny swarm rarely converges; the fit's columns are filled exactly when one did.
    assert summary["n_converged"] == fits["converged"].sum()
    fit_columns = comparison[["rmse_cnn_on_fitted", "rmse_fit", "cnn_over_fit"]]
    assert np.isfinite(fit_columns).all().all() == (summary["n_converged"] > 0)
    # The refinement: two calibration and two test lenses in two jobs, from the CNN's seeds.
    assert sorted(p.name for p in (run / "refine" / "chunks").iterdir()) == [
        "chunk_00000.csv",
        "chunk_00001.csv",
    ]
    seeds = pd.read_csv(run / "refine" / "seeds.csv")
    assert seeds["role"].tolist() == ["calibration"] * 2 + ["test"] * 2
    refined = pd.read_csv(run / "refine" / "predictions.csv")
    assert refined["lens_index"].tolist() == seeds.query("role == 'test'")["lens_index"].tolist()
    done = refined["converged"].astype(bool)
    for name in targets:
        assert refined.loc[done, [f"pred_{name}", f"sigma_{name}"]].notna().all().all()
        assert refined.loc[~done, f"pred_{name}"].isna().all()
    assert summary["n_refined"] == 2 and summary["n_refined_failed"] == (~done).sum()
    assert {"rmse_refined", "refined_over_cnn", "refined_over_fit"} <= set(comparison)
    assert len(pd.read_csv(cnn / "history.csv")) == len(pd.read_csv(naive / "history.csv")) == 2
    # No job's log holds TensorFlow's C++ start-up lines (lenspipe.quiet_tensorflow).
    train_log = (run / "logs" / "train" / "cnn.log").read_text()
    assert "Epoch 1/2" in train_log
    for log in (run / "logs").rglob("*.log"):
        lines = log.read_bytes().splitlines()
        assert not [line for line in lines if CPP_LOG_LINE.match(line)], log
    model = load_trained_model(cnn / "model.keras")
    assert model.output_shape == (None, 2 * len(targets))  # mean and log-variance
    calibration = json.loads((cnn / "calibration.json").read_text())["parameters"]
    assert sorted(calibration) == sorted(targets)
    assert all(calibration[name]["sigma_scale"] > 0 for name in targets)
    assert all({"tail_dof", "half_width_95"} <= set(calibration[name]) for name in targets)
    plots = ("training_curve", "predicted_vs_true", "residuals", "gallery")
    for plot in (*plots, "calibration"):
        assert colour_fraction(cnn / "plots" / f"{plot}.png") > 0.001, plot
    # The naive model (values only) went through the same rules, but is not calibrated: no
    # calibration, no coverage, no calibration plot.
    assert load_trained_model(naive / "model.keras").output_shape == (None, len(targets))
    for plot in plots:
        assert colour_fraction(naive / "plots" / f"{plot}.png") > 0.001, plot
    assert not (naive / "calibration.json").exists()
    assert not (naive / "plots" / "calibration.png").exists()
    naive_metrics = pd.read_csv(naive / "metrics.csv", index_col=0)
    assert list(naive_metrics.index) == targets
    assert not [column for column in naive_metrics if column.startswith("coverage")]
    assert not list((run / "work" / "train").iterdir())
    for model in MODELS:
        assert "Epoch 2/2" in (run / "logs" / "train" / f"{model}.log").read_text()

    # The status command on the finished run: complete, each rule's resources, reads only.
    before = file_tree(workdir)
    status = status_report(workdir, "tiny.yaml")
    assert file_tree(workdir) == before
    assert status["counts"]["finished"] == 3 and status["progress"]["lenses_done"] == 96
    assert status["platforms"] == {cpu_platform(): 3}
    assert [stage["stage"] for stage in status["stages"]][2:8] == [
        "train/cnn",
        "train/naive",
        "calibrate/cnn",
        "evaluate/cnn",
        "evaluate/naive",
        "calibration_plot/cnn",
    ]
    assert [stage["state"] for stage in status["stages"]] == ["done"] * 14
    refining = next(stage for stage in status["stages"] if stage["stage"] == "refine_chunk")
    assert refining["detail"] == "2 of 2 chunks refined, 0 lenses in saved parts"
    assert status["stages"][2]["detail"] == status["stages"][3]["detail"] == "2 of up to 2 epochs"
    assert not status["resume"]["needed"] and status["resume"]["command"] is None
    rules = {rule["rule"]: rule for rule in status["efficiency"]}
    assert set(rules) == {
        "simulate_chunk",
        "consolidate",
        "normalise",
        "train/cnn",  # per model: a GPU and CPUs on a cluster
        "train/naive",
        "calibrate",
        "evaluate",
        "baseline_fit",
        "refine_chunk",
    }
    assert rules["simulate_chunk"]["jobs"] == 3 and rules["refine_chunk"]["jobs"] == 2
    assert rules["train/cnn"]["jobs"] == rules["train/naive"]["jobs"] == 1
    assert rules["evaluate"]["jobs"] == 2  # one per model
    assert all(rule["largest_rss_mb"] > 50 for rule in rules.values())
    assert "Complete: nothing to resume." in lenspipe_status(workdir, "tiny.yaml").stdout

    report = snakemake("--configfile", "tiny.yaml", "--report", "report.html", cwd=workdir)
    assert report.returncode == 0, report.stderr[-3000:]
    assert (workdir / "report.html").stat().st_size > 10_000

    again = snakemake("-n", "--configfile", "tiny.yaml", cwd=workdir)
    assert "Nothing to be done" in again.stdout + again.stderr

    # `lenspipe predict` on test images taken out of the store gives what evaluate gave them.
    tested = pd.read_csv(cnn / "predictions.csv")
    store_images = open_store(run / "lenses.zarr")["images"]
    np.save(workdir / "mine.npy", store_images.oindex[tested["lens_index"].to_numpy()][..., 0])
    predict = [sys.executable, "-m", "lenspipe", "predict", "--images", "mine.npy"]
    predict += ["--configfile", "tiny.yaml", "--out", "mine.csv"]
    predicted = subprocess.run(predict, cwd=workdir, capture_output=True, text=True)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    mine = pd.read_csv(workdir / "mine.csv")
    assert mine["image"].tolist() == list(range(len(tested)))
    for name in targets:
        for column in (f"pred_{name}", f"sigma_{name}"):
            np.testing.assert_allclose(mine[column], tested[column], rtol=1e-5, atol=1e-7)
        wide = calibration[name]["half_width_95"] * mine[f"sigma_{name}"]
        np.testing.assert_allclose(mine[f"half_width_95_{name}"], wide, rtol=1e-9)
    written = (workdir / "mine.csv").read_bytes()
    refused = subprocess.run(predict, cwd=workdir, capture_output=True, text=True)
    assert refused.returncode == 2 and "mine.csv: exists" in refused.stderr
    assert (workdir / "mine.csv").read_bytes() == written

    # `predict --refine` on two of those images, and the cutouts target on the same file, in
    # chunk jobs: the same fits from the same CNN predictions.
    np.save(workdir / "two.npy", np.load(workdir / "mine.npy")[:2])
    refine = [sys.executable, "-m", "lenspipe", "predict", "--images", "two.npy", "--refine"]
    refine += ["--configfile", "tiny.yaml", "--out", "two.csv", "--workers", "2"]
    refined_here = subprocess.run(refine, cwd=workdir, capture_output=True, text=True)
    assert refined_here.returncode == 0, refined_here.stderr[-3000:]
    assert "refined predictions for 2 images" in refined_here.stdout
    two = pd.read_csv(workdir / "two.csv")
    assert two["image"].tolist() == [0, 1] and set(two["path"]) <= {"seeded", "restarts"}
    for name in targets:
        np.testing.assert_allclose(two[f"cnn_{name}"], mine[f"pred_{name}"][:2], rtol=1e-6)
    cutouts = {"refine": {"cutouts": {"two": "two.npy"}}}
    (workdir / "cutouts.yaml").write_text(yaml.safe_dump(cutouts))
    fanned = snakemake(
        "cutouts", "--cores", "2", "--configfile", "tiny.yaml", "cutouts.yaml", cwd=workdir
    )
    assert fanned.returncode == 0, fanned.stderr[-3000:]
    jobs = job_counts(fanned.stdout + fanned.stderr)
    assert jobs["refine_cutout_chunk"] == 1 and jobs["refine_cutouts"] == 1
    from_jobs = pd.read_csv(run / "refine" / "cutouts" / "two" / "predictions.csv")
    pd.testing.assert_frame_equal(from_jobs.drop(columns="seconds"), two.drop(columns="seconds"))

    # A changed setting reruns exactly the jobs that depend on it.
    (workdir / "more_epochs.yaml").write_text(yaml.safe_dump({"training": {"epochs": 3}}))
    plan = snakemake("-n", "--configfile", "tiny.yaml", "more_epochs.yaml", cwd=workdir)
    # The naive model trains for the same epochs; the fit does not depend on them; the
    # refinement starts again from the retrained CNN's predictions.
    assert job_counts(plan.stdout + plan.stderr) == {
        "train": 2,
        "calibrate": 1,
        "evaluate": 2,
        "calibration_plot": 1,
        "refine_seeds": 1,
        "refine_chunk": 2,
        "refine": 1,
        "compare": 1,
        "all": 1,
        "total": 12,
    }
    # The CNN's architecture is not a setting of the naive model: only the CNN retrains.
    (workdir / "wider.yaml").write_text(yaml.safe_dump({"training": {"dense_units": [32]}}))
    plan = snakemake("-n", "--configfile", "tiny.yaml", "wider.yaml", cwd=workdir)
    output = plan.stdout + plan.stderr
    assert "model=cnn" in output and "model=naive" not in output
    assert job_counts(output)["train"] == job_counts(output)["evaluate"] == 1
    (workdir / "new_seed.yaml").write_text(yaml.safe_dump({"seed": 8}))
    plan = snakemake("-n", "--configfile", "tiny.yaml", "new_seed.yaml", cwd=workdir)
    counts = job_counts(plan.stdout + plan.stderr)
    assert counts["simulate_chunk"] == 3 and counts["consolidate"] == 1
