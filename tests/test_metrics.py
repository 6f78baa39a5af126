"""Metrics on arrays whose answers are known by hand."""

import numpy as np
import pytest
from lenspipe.evaluation.metrics import regression_metrics


def test_metrics_of_a_known_example():
    truth = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0], [3.0, 40.0]])
    prediction = np.array([[1.0, 10.0], [1.0, 20.0], [2.0, 30.0], [5.0, 40.0]])
    table = regression_metrics(truth, prediction, ["a", "b"])
    assert table.loc["a", "rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert table.loc["a", "mae"] == pytest.approx(0.75)
    assert table.loc["a", "median_abs_error"] == pytest.approx(0.5)
    assert table.loc["a", "bias"] == pytest.approx(0.75)
    assert table.loc["a", "r2"] == pytest.approx(1 - 5 / 5)
    assert table.loc["b"].to_dict() == {
        "rmse": 0.0,
        "mae": 0.0,
        "median_abs_error": 0.0,
        "bias": 0.0,
        "r2": 1.0,
    }
