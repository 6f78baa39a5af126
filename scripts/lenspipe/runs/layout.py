"""Where a run keeps each file; the paths the rules in workflow/rules/ declare."""

from pathlib import Path
from typing import Any

STAGES = (
    "consolidate",
    "normalise",
    "train",
    "calibrate",
    "evaluate",
    "baseline_dense",
    "baseline_fit",
    "compare",
)
STAGE_OUTPUTS = {
    "consolidate": ("lenses.zarr", "parameters.parquet"),
    "normalise": ("normalisation.json", "split.csv"),
    "train": ("model.keras", "history.csv"),
    "calibrate": ("calibration.json",),
    "evaluate": ("metrics.json",),
    "baseline_dense": ("baselines/naive/predictions.csv", "baselines/naive/metrics.json"),
    "baseline_fit": ("baselines/fit/predictions.csv",),
    "compare": ("comparison.csv", "comparison.json"),
}
STAGE_NEEDS = {
    "consolidate": ("simulate_chunk",),
    "normalise": ("consolidate",),
    "train": ("normalise",),
    "calibrate": ("train",),
    "evaluate": ("calibrate",),
    "baseline_dense": ("normalise",),
    "baseline_fit": ("normalise",),
    "compare": ("evaluate", "baseline_dense", "baseline_fit"),
}
"""The stages each stage reads the outputs of (``simulate_chunk``: every chunk)."""


def fit_baseline_runs(config: dict[str, Any]) -> bool:
    """Whether the workflow runs the fit baseline: not when a lensed quasar is simulated,
    which the fit does not model. The rules (``workflow/rules/common.smk``) ask this too."""
    return not config["lens_system"]["point_source"]


def run_stages(config: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The stages after the chunks that the workflow runs for ``config``, in order, each with
    the stages it reads the outputs of."""
    skipped = set() if fit_baseline_runs(config) else {"baseline_fit"}
    return {
        stage: tuple(need for need in STAGE_NEEDS[stage] if need not in skipped)
        for stage in STAGES
        if stage not in skipped
    }


INDEPENDENT_TABLE = "independent_tests.csv"
"""The side-by-side table of the test split and the independent test campaigns."""
LEARNING_CURVE_OUTPUTS = ("learning_curve.csv", "plots/learning_curve.png")
"""The learning curve's table and figure."""


def chunk_name(chunk: int) -> str:
    """The chunk wildcard: five digits."""
    return f"{chunk:05d}"


def chunk_file(run_dir: Path, chunk: int) -> Path:
    return run_dir / "chunks" / f"chunk_{chunk_name(chunk)}.npz"


def chunk_work_dir(run_dir: Path, chunk: int) -> Path:
    return run_dir / "work" / "chunks" / f"chunk_{chunk_name(chunk)}"


def chunk_log(run_dir: Path, chunk: int) -> Path:
    return run_dir / "logs" / "simulate_chunk" / f"{chunk_name(chunk)}.log"


def chunk_benchmark(run_dir: Path, chunk: int) -> Path:
    return run_dir / "benchmarks" / "simulate_chunk" / f"{chunk_name(chunk)}.tsv"


def stage_log(run_dir: Path, stage: str) -> Path:
    return run_dir / "logs" / f"{stage}.log"


def stage_benchmark(run_dir: Path, stage: str) -> Path:
    return run_dir / "benchmarks" / f"{stage}.tsv"


def training_history_in_progress(run_dir: Path) -> Path:
    return run_dir / "work" / "train" / "history.csv"


def survey_gallery_file(run_dir: Path, survey: str) -> Path:
    return run_dir / "plots" / "surveys" / f"{survey}.png"


def independent_dir(run_dir: Path, name: str) -> Path:
    """The folder of independent test campaign ``name``."""
    return run_dir / "independent" / name


def independent_store(run_dir: Path, name: str) -> Path:
    return independent_dir(run_dir, name) / "lenses.zarr"


def independent_metrics(run_dir: Path, name: str) -> Path:
    return independent_dir(run_dir, name) / "metrics.json"


def learning_curve_dir(run_dir: Path, size: int) -> Path:
    """The folder of the learning curve's model trained on ``size`` lenses."""
    return run_dir / "learning_curve" / str(size)


def learning_curve_predictions(run_dir: Path, size: int) -> Path:
    return learning_curve_dir(run_dir, size) / "predictions.csv"


def learning_curve_history_in_progress(run_dir: Path, size: int) -> Path:
    return run_dir / "work" / "learning_curve" / str(size) / "history.csv"
