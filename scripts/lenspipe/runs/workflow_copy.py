"""A copy of the workflow in another folder, so a run leaves the original untouched.

Used by the workflow and SLURM tests and by the benchmarks.
"""

import shutil
from pathlib import Path

# What a run needs of a workflow folder.
WORKFLOW_PARTS = ("Snakefile", "workflow", "scripts", "config", "envs", "profiles")


def copy_workflow(source: Path, destination: Path) -> Path:
    """Copy the workflow in ``source`` into ``destination``; return ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        path = source / part
        if path.is_dir():
            shutil.copytree(path, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, destination / part)
    return destination
