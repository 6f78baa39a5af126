"""The learning curve: nested seeded training subsets, the train rule's CNN trained on each,
the table and figure of test metrics against size, its config checks, and a Snakemake run."""

import lenspipe.evaluation.learning_curve
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import TINY, colour_fraction, fit_small_normalisation, small_config
from lenspipe.config import learning_curve_sizes, merge_config, training_subset_size
from lenspipe.data.normalise import save_normalisation, save_split
from lenspipe.data.split import split_indices
from lenspipe.errors import ConfigError
from lenspipe.evaluation.learning_curve import nested_training_subset, train_on_subset
from lenspipe.evaluation.learning_curve_table import curve_table, write_learning_curve
from lenspipe.evaluation.plots import plot_learning_curve
from lenspipe.evaluation.predictions import prediction_frame
from workflow_helpers import (
    copy_workflow,
    job_counts,
    snakemake,
    status_report,
    workflow_with_config,
)


def curve(*sizes: int) -> dict:
    """The evaluation section with these learning-curve sizes."""
    return {"evaluation": {"learning_curve": list(sizes)}}


def test_sizes_below_the_training_subset_get_a_model_of_their_own():
    config = small_config(**curve(40, 16, 48))  # 60 lenses: 48 in the training subset
    assert training_subset_size(config) == 48
    assert learning_curve_sizes(config) == [16, 40]  # 48 is the train rule's model
    assert learning_curve_sizes(small_config()) == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        (curve(16, 8), "evaluation.learning_curve.1: 8 training lenses are fewer than one batch"),
        (curve(49), "evaluation.learning_curve.0: 49 training lenses, but the training subset"),
        (curve(16, 16), "evaluation.learning_curve"),
        (curve(0), "evaluation.learning_curve.0"),
    ],
)
def test_bad_learning_curve_raises_an_error_naming_the_field(changes, expected):
    with pytest.raises(ConfigError) as error:
        small_config(**changes)
    assert expected in str(error.value)


def test_training_subsets_are_nested_seeded_and_inside_the_training_subset():
    subsets = split_indices(1000, {"train": 0.8, "validation": 0.1, "test": 0.1}, seed=7)
    train = subsets["train"]
    small, large = (nested_training_subset(train, n, seed=7) for n in (100, 400))
    assert len(small) == 100 and len(large) == 400
    assert np.all(np.diff(large) > 0)  # sorted, no lens twice
    assert set(small) <= set(large) <= set(train)
    assert not set(large) & (set(subsets["validation"]) | set(subsets["test"]))
    np.testing.assert_array_equal(nested_training_subset(train, 400, seed=7), large)
    # A random draw of the training subset, not its lowest indices, and another seed's draw.
    assert large.max() > np.sort(train)[399]
    assert not np.array_equal(nested_training_subset(train, 400, seed=8), large)
    np.testing.assert_array_equal(nested_training_subset(train, len(train), seed=7), train)
    with pytest.raises(ValueError, match="n_train=801"):
        nested_training_subset(train, 801, seed=7)


def test_curve_table_by_hand():
    names = ["lens_theta_E", "lens_e1"]
    truth = np.array([[1.0, 0.0], [1.5, 0.1], [2.0, -0.1], [1.2, 0.0]])
    samples = {
        size: prediction_frame(np.arange(4), names, truth, truth + error)
        for size, error in ((40, [0.1, -0.02]), (10, [0.4, 0.02]), (20, [0.2, 0.0]))
    }
    table = curve_table(names, samples)
    assert list(table.index) == [(name, size) for name in names for size in (10, 20, 40)]
    assert list(table.columns) == ["n_test", "rmse", "rmse_over_full", "bias", "mae", "r2"]
    assert table.loc[("lens_theta_E", 10), "rmse"] == pytest.approx(0.4)
    assert table.loc[("lens_theta_E", 10), "rmse_over_full"] == pytest.approx(4.0)
    assert table.loc[("lens_e1", 40), "bias"] == pytest.approx(-0.02)
    assert (table["n_test"] == 4).all()


def test_the_refined_fit_is_the_floor_on_its_converged_lenses(tmp_path):
    names = ["lens_theta_E", "lens_e1"]
    truth = np.array([[1.0, 0.0], [1.5, 0.1], [2.0, -0.1], [1.2, 0.0]])
    errors = {10: np.array([[0.4, 0.02], [0.4, 0.02], [-0.4, 0.02], [0.3, 0.0]])}
    errors[40] = errors[10] / 4
    samples = {
        size: prediction_frame(np.arange(4), names, truth, truth + error)
        for size, error in errors.items()
    }
    # Lenses 1 and 3 refined; lens 2 did not converge and lens 0 was not refined.
    refined = prediction_frame(
        np.array([1, 2, 3]), names, truth[1:], truth[1:] + [[0.01, 0.0], [9.0, 9.0], [0.03, 0.0]]
    ).assign(converged=[True, False, True])
    table = curve_table(names, samples, refined)
    assert (table["n_refined"] == 2).all()
    none_converged = curve_table(names, samples, refined.assign(converged=False))
    assert (none_converged["n_refined"] == 0).all() and none_converged["rmse_refined"].isna().all()
    floor = np.sqrt((0.01**2 + 0.03**2) / 2)
    assert table.loc[("lens_theta_E", 10), "rmse_refined"] == pytest.approx(floor)
    assert table.loc[("lens_theta_E", 40), "rmse_refined"] == pytest.approx(floor)
    # Each size on the same two lenses, not on all four.
    assert table.loc[("lens_theta_E", 10), "rmse_on_refined"] == pytest.approx(
        np.sqrt((0.4**2 + 0.3**2) / 2)
    )
    assert table.loc[("lens_theta_E", 10), "rmse"] == pytest.approx(
        np.sqrt((3 * 0.4**2 + 0.3**2) / 4)
    )
    assert table.loc[("lens_e1", 40), "rmse_on_refined"] == pytest.approx(0.02 / 4 / np.sqrt(2))
    paths = {}
    for size, frame in samples.items():
        paths[size] = tmp_path / f"{size}.csv"
        frame.to_csv(paths[size], index=False)
    refined.to_csv(tmp_path / "refined.csv", index=False)
    written = write_learning_curve(
        names, paths, tmp_path / "curve.csv", tmp_path / "curve.png", tmp_path / "refined.csv"
    )
    assert list(written.columns)[-3:] == ["n_refined", "rmse_on_refined", "rmse_refined"]
    assert (tmp_path / "curve.png").exists()
    # The figure: each panel the CNN's curve over the sizes and the floor dashed under it.
    figure = plot_learning_curve(
        np.array([10, 40]),
        np.array([[0.4, 0.02], [0.1, 0.005]]),
        names,
        tmp_path / "floor.png",
        floor=np.array([0.02, 0.001]),
    )
    for axis, level in zip(figure.axes, (0.02, 0.001)):
        curve, dashed = axis.get_lines()
        assert list(curve.get_xdata()) == [10, 40]
        assert dashed.get_linestyle() == "--" and set(dashed.get_ydata()) == {level}


def test_a_subset_model_is_the_train_rules_cnn_on_the_nested_lenses(
    small_store, tmp_path, monkeypatch
):
    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    save_split(subsets, tmp_path / "split.csv")
    save_normalisation(normalisation, tmp_path / "normalisation.json")
    trained_on = []
    real_train = lenspipe.evaluation.learning_curve.train

    def recording_train(**settings):
        trained_on.append(settings)
        return real_train(**settings)

    monkeypatch.setattr(lenspipe.evaluation.learning_curve, "train", recording_train)
    outputs = {
        name: tmp_path / "24" / file
        for name, file in (
            ("model", "model.keras"),
            ("history", "history.csv"),
            ("curve", "training_curve.png"),
            ("predictions", "predictions.csv"),
        )
    }
    metrics = train_on_subset(
        config["training"],
        config["seed"],
        24,
        store,
        tmp_path / "normalisation.json",
        tmp_path / "split.csv",
        tmp_path / "work",
        outputs,
    )
    (settings,) = trained_on
    np.testing.assert_array_equal(
        settings["train_indices"], nested_training_subset(subsets["train"], 24, config["seed"])
    )
    assert settings["training"] == config["training"] and settings["seed"] == config["seed"]
    predictions = pd.read_csv(outputs["predictions"])
    assert predictions["lens_index"].tolist() == subsets["test"].tolist()
    assert list(metrics.index) == config["training"]["targets"]
    assert np.isfinite(metrics["rmse"]).all()
    assert len(pd.read_csv(outputs["history"])) == config["training"]["epochs"]
    assert colour_fraction(outputs["curve"]) > 0.001
    assert not (tmp_path / "work").exists()


@pytest.mark.workflow
def test_the_dry_run_plans_one_training_job_per_size(tmp_path):
    workdir = copy_workflow(tmp_path)
    result = snakemake(
        "-n", "--configfile", "config/local.yaml", "config/learning_curve.yaml", cwd=workdir
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout + result.stderr)
    assert counts["train_subset"] == 2 and counts["train"] == 2  # the CNN and the naive model
    assert counts["learning_curve"] == 1
    for size in (4000, 10000):
        assert f"results/local_25k/learning_curve/{size}/predictions.csv" in result.stdout
    assert "learning_curve/20000" not in result.stdout  # the train rule's model
    assert not (workdir / "results").exists()


@pytest.mark.workflow
def test_a_bad_size_stops_snakemake_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "bad.yaml").write_text(yaml.safe_dump(merge_config(TINY, curve(16, 33))))
    result = snakemake("--cores", "1", "--configfile", "bad.yaml", cwd=workdir)
    assert result.returncode != 0
    assert "evaluation.learning_curve.1" in result.stderr
    assert not (workdir / "results").exists()


@pytest.mark.workflow
def test_a_two_size_curve_runs_through_snakemake(tmp_path):
    workdir = workflow_with_config(tmp_path, "curve", **curve(24, 16))  # 32 training lenses
    targets = small_config()["training"]["targets"]
    result = snakemake(
        "results/curve/learning_curve.csv",
        "--cores",
        "2",
        "--configfile",
        "config/test.yaml",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = workdir / "results" / "curve"
    table = pd.read_csv(run / "learning_curve.csv", index_col=["parameter", "n_train"])
    assert list(table.index) == [(name, size) for name in targets for size in (16, 24, 32)]
    assert np.isfinite(table[["rmse", "bias", "rmse_over_full"]]).all().all()
    assert (table.xs(32, level="n_train")["rmse_over_full"] == 1.0).all()
    assert colour_fraction(run / "plots" / "learning_curve.png") > 0.001
    full = pd.read_csv(run / "models" / "cnn" / "predictions.csv")
    for size in (16, 24):
        predictions = pd.read_csv(run / "learning_curve" / str(size) / "predictions.csv")
        assert predictions["lens_index"].tolist() == full["lens_index"].tolist()
        assert (run / "logs" / "train_subset" / f"{size}.log").exists()
        assert (run / "benchmarks" / "train_subset" / f"{size}.tsv").exists()
    assert not list((run / "work" / "learning_curve").glob("*"))  # each backup removed

    stages = {
        stage["stage"]: stage for stage in status_report(workdir, "config/test.yaml")["stages"]
    }
    assert stages["learning_curve"]["state"] == "done"
    assert stages["learning_curve"]["detail"] == "2 of 2 training sets trained, table written"
