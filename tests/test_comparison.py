"""The comparison table: RMSEs, ratios and speed-up computed from known predictions."""

import json

import numpy as np
import pandas as pd
import pytest
from lenspipe.evaluation.comparison import (
    comparison_columns,
    comparison_table,
    fit_counts,
    timing,
    write_comparison,
)
from lenspipe.evaluation.predictions import prediction_frame


def _frame(lenses, truth, prediction):
    return prediction_frame(np.array(lenses), ["a", "b"], np.array(truth), np.array(prediction))


CNN = _frame([3, 5, 8, 9], [[0, 0]] * 4, [[1, 0.1], [-1, 0.1], [1, -0.1], [-1, -0.1]])
NAIVE = _frame([3, 5, 8, 9], [[0, 0]] * 4, [[3, 0.2], [-3, 0.2], [3, 0.2], [-3, -0.2]])
# Lens 8's fit did not converge (its chi^2 stayed above the truth's): the comparison ignores it.
FIT = _frame([5, 8, 9], [[0, 0]] * 3, [[0.5, 0.3], [9.0, 9.0], [-0.5, 0.0]]).assign(
    seconds=[10.0, 20.0, 30.0], converged=[True, False, True]
)
MODELS = {"cnn": CNN, "naive": NAIVE}


def test_rmses_and_ratios_by_hand():
    table = comparison_table(["a", "b"], MODELS, FIT)
    assert table.loc["a", "rmse_cnn"] == pytest.approx(1.0)
    assert table.loc["a", "rmse_naive"] == pytest.approx(3.0)
    assert table.loc["a", "cnn_over_naive"] == pytest.approx(1 / 3)
    # On the converged fits of lenses 5 and 9 only: CNN errors -1, -1; fit errors 0.5, -0.5.
    assert table.loc["a", "rmse_cnn_on_fitted"] == pytest.approx(1.0)
    assert table.loc["a", "rmse_fit"] == pytest.approx(0.5)
    assert table.loc["a", "cnn_over_fit"] == pytest.approx(2.0)
    assert table.loc["b", "rmse_fit"] == pytest.approx(np.sqrt(0.09 / 2))
    assert table.loc["b", "cnn_over_fit"] == pytest.approx(0.1 / np.sqrt(0.045))


def test_timing_and_the_written_summary(tmp_path):
    # The fit's seconds per lens count every fitted lens, converged or not.
    assert timing({"cnn": 0.002, "naive": 0.001}, FIT) == {
        "cnn_seconds_per_lens": 0.002,
        "naive_seconds_per_lens": 0.001,
        "fit_seconds_per_lens": 20.0,
        "cnn_speedup_over_fit": pytest.approx(10_000),
    }
    paths = {}
    for name, frame in (("cnn", CNN), ("naive", NAIVE), ("fit", FIT)):
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    seconds = {"cnn": 0.002, "naive": 0.001}
    fit = paths.pop("fit")
    write_comparison(["a", "b"], paths, seconds, fit, tmp_path / "t.csv", tmp_path / "s.json")
    summary = json.loads((tmp_path / "s.json").read_text())
    assert (summary["n_test"], summary["n_fitted"], summary["n_converged"]) == (4, 3, 2)
    assert summary["converged_fraction"] == pytest.approx(2 / 3)
    assert summary["parameters"]["a"]["cnn_over_naive"] == pytest.approx(1 / 3)
    assert pd.read_csv(tmp_path / "t.csv", index_col="parameter").shape == (2, 6)


def test_the_columns_follow_the_models_with_the_first_as_the_reference():
    assert comparison_columns(["cnn", "naive"]) == [
        "rmse_cnn",
        "rmse_naive",
        "cnn_over_naive",
        "rmse_cnn_on_fitted",
        "rmse_fit",
        "cnn_over_fit",
    ]
    # A third model gets its RMSE and the reference's ratio over it.
    table = comparison_table(["a", "b"], {**MODELS, "other": NAIVE.copy()}, FIT)
    assert list(table.columns) == comparison_columns(["cnn", "naive", "other"])
    assert table.loc["a", "cnn_over_other"] == pytest.approx(1 / 3)
    assert timing({"cnn": 0.002, "naive": 0.001, "other": 0.004}, FIT)[
        "other_seconds_per_lens"
    ] == pytest.approx(0.004)


def test_without_a_fit_its_columns_are_missing_not_invented():
    table = comparison_table(["a", "b"], MODELS, None)
    assert table["rmse_fit"].isna().all() and table["cnn_over_fit"].isna().all()
    assert np.isnan(timing({"cnn": 0.002, "naive": 0.001}, None)["cnn_speedup_over_fit"])
    counts = fit_counts(None)
    assert (counts["n_fitted"], counts["n_converged"]) == (0, 0)
    assert np.isnan(counts["converged_fraction"])


def test_without_a_converged_fit_the_fit_columns_are_missing_and_the_naive_ones_stay():
    stuck = FIT.assign(converged=False)
    table = comparison_table(["a", "b"], MODELS, stuck)
    assert table[["rmse_cnn_on_fitted", "rmse_fit", "cnn_over_fit"]].isna().all().all()
    assert table.loc["a", "cnn_over_naive"] == pytest.approx(1 / 3)
    assert fit_counts(stuck) == {"n_fitted": 3, "n_converged": 0, "converged_fraction": 0.0}


def test_the_refined_columns_by_hand():
    """Refined lenses 3, 5 and 9 (9 failed); the fit converged on 5 and 9: refined and fit
    compare on lens 5 alone."""
    from lenspipe.evaluation.comparison import refine_counts_and_timing, refined_table

    refined = _frame([3, 5, 9], [[0, 0]] * 3, [[0.1, 0.02], [-0.3, 0.0], [np.nan, np.nan]])
    refined = refined.assign(converged=[True, True, False])
    summary = {
        "parameters": {
            name: {"coverage_68": 0.7, "coverage_95": 0.95, "refined_over_cnn": 0.2}
            for name in ("a", "b")
        },
        "n_refined": 3,
        "n_failed": 1,
        "n_catastrophic": 0,
        "seconds_per_lens_mean": 2.0,
    }
    table = refined_table(["a", "b"], refined, summary, FIT)
    assert table.loc["a", "rmse_refined"] == pytest.approx(np.sqrt((0.01 + 0.09) / 2))
    assert table.loc["a", "bias_refined"] == pytest.approx(-0.1)
    assert table.loc["a", "rmse_refined_on_fitted"] == pytest.approx(0.3)
    assert table.loc["a", "rmse_fit_on_refined"] == pytest.approx(0.5)
    assert table.loc["a", "refined_over_fit"] == pytest.approx(0.6)
    assert table.loc["b", "coverage_68_refined"] == 0.7
    counts = refine_counts_and_timing(summary, FIT)
    assert counts["refined_speedup_over_fit"] == pytest.approx(20.0 / 2.0)
    assert (counts["n_refined"], counts["n_refined_failed"]) == (3, 1)
