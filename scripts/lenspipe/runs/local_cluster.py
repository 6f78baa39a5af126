"""The Amarel profile adapted to the one-node SLURM cluster of scripts/start_slurm.sh.

Used by the SLURM tests and by the fan-out benchmark. Only what differs between Amarel and the
local cluster is changed; everything else is the profile users run.
"""

import subprocess
from pathlib import Path

import yaml
from lenspipe.config import merge_config

# The Amarel profile, relative to a workflow folder.
AMAREL_PROFILE = Path("profiles") / "amarel" / "config.v9+.yaml"

# What differs between Amarel and the one-node cluster of scripts/start_slurm.sh.
LOCAL_CLUSTER = {
    # No accounting database here, so sacct cannot report job states.
    "slurm-status-command": "squeue",
    # Tiny jobs: look at their states after 2 s instead of the plugin's 40 s.
    "slurm-init-seconds-before-status-checks": 2,
    "seconds-between-status-checks": 2,
    # The node has 2 CPUs and about 22 GB of memory: memory requests stop doubling at 16 GB.
    "set-threads": {
        "train": 2,
        "calibrate": 2,
        "evaluate": 2,
        "baseline_fit": 2,
        "evaluate_independent": 2,
        "train_subset": 2,
        "refine_seeds": 2,
        "refine_chunk": 2,
    },
    "default-resources": {"mem_mb": "min(2000 * 2 ** (attempt - 1), 16000)"},
    "set-resources": {
        rule: {"mem_mb": f"min({base} * 2 ** (attempt - 1), 16000)"}
        for rule, base in (
            ("consolidate", 8000),
            ("train", 4000),
            ("calibrate", 8000),
            ("evaluate", 8000),
            ("baseline_fit", 4000),
            ("evaluate_independent", 8000),
            ("train_subset", 4000),
            ("refine_seeds", 8000),
            ("refine_chunk", 4000),
        )
    },
}


def slurm_is_up() -> bool:
    """Whether a SLURM controller answers and its node can run jobs."""
    try:
        states = subprocess.run(
            ["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True, timeout=20
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(state in ("idle", "mixed", "allocated") for state in states)


def local_profile(workdir: Path, amarel_profile: Path | None = None, **changes) -> str:
    """Write the Amarel profile (by default that of the workflow in ``workdir``) with
    LOCAL_CLUSTER and ``changes`` applied, into ``workdir``; return its folder."""
    amarel_profile = amarel_profile or workdir / AMAREL_PROFILE
    profile = merge_config(yaml.safe_load(amarel_profile.read_text()), LOCAL_CLUSTER)
    profile = merge_config(profile, changes)
    folder = workdir / "local-profile"
    folder.mkdir()
    (folder / "config.v9+.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return str(folder)
