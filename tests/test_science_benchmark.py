"""The science benchmark reuses stored reference results only for the same data."""

import importlib.util
import json

import pytest
from conftest import REPO


def load_science():
    spec = importlib.util.spec_from_file_location(
        "science", REPO / "scripts" / "benchmarks" / "science.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stored_reference_results_are_reused_only_on_the_same_data(tmp_path):
    science = load_science()
    reference = {"reference_rmse": [0.1], "reference_bias": [0.0], "reference_seconds": 9.0}
    entry = {"seed": 2, "lenspipe_rmse": [0.05], **reference}
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"data_digest": "abc", "seeds": [entry]}))
    stored = science.stored_references(earlier, "abc")
    assert stored == {2: reference}
    with pytest.raises(SystemExit, match="--reference-from .* not this run's def"):
        science.stored_references(earlier, "def")
    earlier.write_text(json.dumps({"seeds": [entry]}))  # digest not recorded
    with pytest.raises(SystemExit, match="--reference-from"):
        science.stored_references(earlier, "abc")
