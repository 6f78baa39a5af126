"""Independent test campaigns: simulated by the run's own code from another seed, shifted by
their overrides, evaluated with the run's model and normalisation, and run by Snakemake."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import (
    TINY,
    build_store,
    colour_fraction,
    fit_small_normalisation,
    production_config,
    small_config,
)
from lenspipe.atomic import write_json
from lenspipe.config import (
    independent_test_configs,
    merge_config,
    validate_config,
)
from lenspipe.data.normalise import save_normalisation
from lenspipe.evaluation.independent import evaluate_independent
from lenspipe.evaluation.independent_metrics import TEST_SPLIT, side_by_side
from lenspipe.evaluation.predictions import prediction_frame
from lenspipe.learning.compile import compile_model
from lenspipe.runs.chunk_job import simulate_chunk
from lenspipe.settings import SimulationSettings, simulation_settings
from lenspipe.simulation.simulate import LensSimulator
from workflow_helpers import (
    copy_workflow,
    job_counts,
    snakemake,
    status_report,
    workflow_with_config,
)

NOISE_FREE = {"image": {"noise": False}}


def campaigns(*entries: dict) -> dict:
    """The evaluation section with these campaigns."""
    return {"evaluation": {"independent_tests": list(entries)}}


def test_a_campaign_is_the_runs_simulation_with_its_own_seed_and_other_lenses():
    config = small_config(**campaigns({"name": "again", "seed": 8, "n_lenses": 12}))
    campaign = independent_test_configs(config)["again"]
    # Exactly what the run's simulation code gets for a run of this seed and size.
    assert simulation_settings(campaign) == simulation_settings(small_config(seed=8, n_lenses=12))
    _, run_parameters = LensSimulator(SimulationSettings.from_config(config)).simulate_many(
        range(3)
    )
    _, campaign_parameters = LensSimulator(SimulationSettings.from_config(campaign)).simulate_many(
        range(3)
    )
    assert (~np.isclose(run_parameters, campaign_parameters)).mean() > 0.9


def test_overrides_reach_the_images_and_keep_the_lenses():
    config = small_config(
        **campaigns(
            {"name": "sharp", "seed": 8, "overrides": NOISE_FREE},
            {
                "name": "blurred",
                "seed": 8,
                "overrides": {**NOISE_FREE, "observation": {"overrides": {"seeing": 2.0}}},
            },
        )
    )
    sharp, blurred = independent_test_configs(config).values()
    assert blurred["observation"]["overrides"] == {"seeing": 2.0}
    sharp_images, sharp_parameters = LensSimulator(
        SimulationSettings.from_config(sharp)
    ).simulate_many(range(3))
    blurred_images, blurred_parameters = LensSimulator(
        SimulationSettings.from_config(blurred)
    ).simulate_many(range(3))
    np.testing.assert_array_equal(sharp_parameters, blurred_parameters)  # same seed
    # A 2" PSF instead of LSST's 0.7": the same light, spread wider, so every peak is lower.
    peaks = sharp_images.max(axis=(1, 2, 3)), blurred_images.max(axis=(1, 2, 3))
    assert (peaks[1] < 0.7 * peaks[0]).all()


def test_a_prior_in_the_overrides_replaces_the_runs_prior_whole():
    wide = {"dist": "uniform", "min": -0.6, "max": 0.6}  # the run's is a truncated normal
    config = small_config(
        **campaigns({"name": "wide", "seed": 8, "overrides": {"priors": {"lens": {"e1": wide}}}})
    )
    assert independent_test_configs(config)["wide"]["priors"]["lens"]["e1"] == wide
    assert config["priors"]["lens"]["e1"]["dist"] == "truncated_normal"


def test_the_model_is_evaluated_on_every_lens_of_a_campaign(small_store, tmp_path):
    config, store, _, _ = small_store
    _, normalisation = fit_small_normalisation(config, store)
    save_normalisation(normalisation, tmp_path / "normalisation.json")
    model = compile_model(config["training"], (32, 32, 1), 1)  # untrained, as real as any
    model.save(tmp_path / "model.keras")
    calibration = {name: {"sigma_scale": 1.0} for name in config["training"]["targets"]}
    write_json(tmp_path / "calibration.json", {"n_validation": 1, "parameters": calibration})
    # Einstein radii from a wider prior than the training one: the model must extrapolate.
    wider = {"priors": {"lens": {"theta_E": {"dist": "uniform", "min": 0.5, "max": 2.5}}}}
    config = merge_config(
        config, campaigns({"name": "wider", "seed": 8, "n_lenses": 20, "overrides": wider})
    )
    campaign = independent_test_configs(validate_config(config))["wider"]
    campaign_store, _, _ = build_store(campaign, tmp_path / "wider")
    outputs = {
        "metrics_csv": tmp_path / "metrics.csv",
        "metrics_json": tmp_path / "metrics.json",
        "predictions": tmp_path / "predictions.csv",
        "predicted_vs_true": tmp_path / "predicted_vs_true.png",
    }
    evaluate_independent(
        16,
        campaign_store,
        tmp_path / "normalisation.json",
        tmp_path / "model.keras",
        tmp_path / "calibration.json",
        True,
        outputs,
    )
    targets = config["training"]["targets"]
    metrics = pd.read_csv(outputs["metrics_csv"], index_col="parameter")
    assert list(metrics.index) == targets
    assert np.isfinite(metrics[["rmse", "bias", "coverage_68", "coverage_95"]]).all().all()
    assert metrics.loc["lens_theta_E", "outside_training_range"] > 0.2
    assert json.loads(outputs["metrics_json"].read_text())["n_test"] == 20
    predictions = pd.read_csv(outputs["predictions"])
    assert predictions["lens_index"].tolist() == list(range(20))
    assert colour_fraction(outputs["predicted_vs_true"]) > 0.001


def test_side_by_side_table_by_hand(small_store):
    config, store, _, _ = small_store
    _, normalisation = fit_small_normalisation(config, store)
    names = ["lens_theta_E", "lens_e1"]
    truth = np.array([[1.0, 0.0], [1.5, 0.1], [1.8, -0.1], [3.0, 0.0]])
    frames = {
        TEST_SPLIT: prediction_frame(
            np.arange(4), names, truth, truth + [[0.1, 0.05]] * 4, np.full((4, 2), 0.2)
        ),
        "shifted": prediction_frame(np.arange(2), names, truth[:2], truth[:2] + [[0.3, 0.1]] * 2),
    }
    table = side_by_side(names, frames, normalisation)
    assert list(table.index) == [
        ("lens_theta_E", TEST_SPLIT),
        ("lens_theta_E", "shifted"),
        ("lens_e1", TEST_SPLIT),
        ("lens_e1", "shifted"),
    ]
    assert table.loc[("lens_theta_E", "shifted"), "rmse"] == pytest.approx(0.3)
    assert table.loc[("lens_theta_E", "shifted"), "rmse_over_test_split"] == pytest.approx(3.0)
    assert table.loc[("lens_theta_E", TEST_SPLIT), "bias"] == pytest.approx(0.1)
    assert table.loc[("lens_theta_E", TEST_SPLIT), "coverage_68"] == 1.0
    assert table.loc[("lens_theta_E", TEST_SPLIT), "outside_training_range"] == 0.25  # 3.0
    assert table.loc[("lens_e1", "shifted"), "n_lenses"] == 2
    assert np.isnan(table.loc[("lens_e1", "shifted"), "coverage_95"])  # no sigma


@pytest.mark.workflow
def test_the_local_dry_run_plans_its_campaign(tmp_path):
    result = snakemake("-n", "--configfile", "config/local.yaml", cwd=copy_workflow(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout + result.stderr)
    assert counts["simulate_independent_chunk"] == 1  # 1,000 lenses in chunks of 1,000
    assert counts["consolidate_independent"] == counts["evaluate_independent"] == 1
    assert counts["independent_table"] == 1
    assert "results/local/independent/same_settings/lenses.zarr" in result.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_a_campaign_runs_through_snakemake_with_the_runs_simulation_code(tmp_path):
    campaign = {"name": "again", "seed": 8, "n_lenses": 15}  # two chunks of TINY's 10
    workdir = workflow_with_config(tmp_path, "indep", **campaigns(campaign))
    table_path = "results/indep/independent_tests.csv"
    result = snakemake(table_path, "--cores", "2", "--configfile", "config/test.yaml", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    run, folder = workdir / "results" / "indep", workdir / "results" / "indep" / "independent"

    # The Snakemake-made chunks are byte for byte those of the run's own simulation code for a
    # run of the campaign's seed and size.
    same = validate_config(merge_config(production_config(), {**TINY, "seed": 8, "n_lenses": 15}))
    for chunk in (0, 1):
        path = tmp_path / f"direct_{chunk}.npz"
        simulate_chunk(
            SimulationSettings.from_config(same),
            chunk,
            path,
            tmp_path / f"work_{chunk}",
            same["checkpoint_every"],
        )
        made = folder / "again" / "chunks" / f"chunk_{chunk:05d}.npz"
        assert made.read_bytes() == path.read_bytes()

    targets = production_config()["training"]["targets"]
    predictions = pd.read_csv(folder / "again" / "models" / "cnn" / "predictions.csv")
    main = pd.read_parquet(run / "parameters.parquet").head(15)
    assert len(predictions) == 15
    assert not np.isclose(predictions["true_lens_theta_E"], main["lens_theta_E"]).any()
    table = pd.read_csv(run / "independent_tests.csv", index_col=["parameter", "sample"])
    assert list(table.index) == [
        (name, label) for name in targets for label in (TEST_SPLIT, "again")
    ]
    assert (table.xs("again", level="sample")["n_lenses"] == 15).all()
    assert np.isfinite(table[["rmse", "rmse_over_test_split", "coverage_95"]]).all().all()

    stages = {
        stage["stage"]: stage for stage in status_report(workdir, "config/test.yaml")["stages"]
    }
    assert stages["independent"]["state"] == "done"
    assert stages["independent"]["detail"] == "1 of 1 campaigns evaluated, 1 simulated"
