"""Shared fixtures: small configs and a real simulated store."""

from pathlib import Path

import pytest
import yaml
from lenspipe.config import merge_config, validate_config
from lenspipe.data.chunk_files import chunk_count
from lenspipe.data.consolidate import consolidate
from lenspipe.runs.chunk_job import simulate_chunk
from lenspipe.settings import SimulationSettings

REPO = Path(__file__).resolve().parents[1]

SMALL = {
    "run_name": "test",
    "n_lenses": 60,
    "chunk_size": 25,
    "seed": 7,
    "image": {"num_pix": 32},
    "training": {
        "conv_filters": [8, 16],
        "dense_units": [16],
        "batch_size": 16,
        "epochs": 2,
        "early_stopping_patience": 2,
    },
    "evaluation": {"gallery_size": 4},
    "baselines": {
        "dense": {"dense_units": [16]},
        "fit": {
            "n_lenses": 2,
            "n_starts": 1,
            "n_particles": 6,
            "n_iterations": 3,
            "polish_iterations": 20,
        },
    },
    # Two calibration and two test lenses in two refine jobs, saved lens by lens.
    "refine": {"n_lenses": 2, "n_calibration": 2, "chunk_size": 2, "checkpoint_every": 1},
}

# Four chunks of ten lenses, saved every five: the workflow, status and SLURM tests.
TINY = merge_config(SMALL, {"n_lenses": 40, "chunk_size": 10, "checkpoint_every": 5})


def production_config() -> dict:
    """The production config file as loaded, before validation."""
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def small_config(**changes) -> dict:
    """A validated small config; keyword arguments are merged into it."""
    return validate_config(merge_config(merge_config(production_config(), SMALL), changes))


def build_store(config: dict, directory: Path) -> tuple[Path, Path, list[Path]]:
    """Simulate every chunk of ``config`` and consolidate; return store, table, chunk paths."""
    chunks = [
        directory / "chunks" / f"chunk_{chunk:05d}.npz"
        for chunk in range(chunk_count(config["n_lenses"], config["chunk_size"]))
    ]
    for chunk, path in enumerate(chunks):
        simulate_chunk(
            SimulationSettings.from_config(config),
            chunk,
            path,
            directory / "work" / path.stem,
            config["checkpoint_every"],
        )
    store, table = directory / "lenses.zarr", directory / "parameters.parquet"
    consolidate(SimulationSettings.from_config(config), chunks, store, table)
    return store, table, chunks


def fit_small_normalisation(config: dict, store: Path):
    """Split and normalisation of ``store`` with the settings of ``config``."""
    from lenspipe.data.normalise import fit_normalisation

    settings = config["normalisation"]
    return fit_normalisation(
        store,
        targets=config["training"]["targets"],
        split_fractions=settings["split"],
        seed=config["seed"],
        image_stretch=settings["image_stretch"],
        asinh_softening=settings["asinh_softening"],
        image_range=settings["image_range"],
    )


@pytest.fixture(scope="session")
def small_store(tmp_path_factory) -> tuple[dict, Path, Path, list[Path]]:
    """A real store of the small config, shared by the tests that only read it."""
    config = small_config()
    store, table, chunks = build_store(config, tmp_path_factory.mktemp("small_store"))
    return config, store, table, chunks


def require_slurm() -> None:
    """Require the local SLURM cluster: fail under CI=true, skip with the fix elsewhere."""
    import os

    from lenspipe.runs.local_cluster import slurm_is_up

    if not slurm_is_up():
        message = "no SLURM cluster answers on localhost; start one: bash scripts/start_slurm.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def colour_fraction(png: Path) -> float:
    """The fraction of a PNG's pixels in colour, neither grey, white nor black: the data a
    figure drew (points, lines, images in a colour map), not its axes and text alone."""
    import matplotlib.image

    pixels = matplotlib.image.imread(png)[..., :3]
    return float((pixels.max(axis=-1) - pixels.min(axis=-1) > 0.1).mean())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist's ``--dist loadgroup`` (scripts/run_tests.sh), the SLURM tests run one
    after another in one worker, as they share the one-node cluster, while the other tests
    run beside them."""
    for item in items:
        if item.get_closest_marker("slurm"):
            item.add_marker(pytest.mark.xdist_group("slurm"))
