import sys
from pathlib import Path

# The lenspipe package lives in scripts/; make it importable here even when it is not
# installed (rule scripts get scripts/ on their path from Snakemake itself).
sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from lenspipe.chunks import chunk_count
from lenspipe.config import simulation_settings, validate_config

# Fills the schema defaults in place and stops with a message naming the field, before any
# job is planned or anything is written.
validate_config(config)

RUN = f"results/{config['run_name']}"
N_CHUNKS = chunk_count(config["n_lenses"], config["chunk_size"])
# Rules receive their settings as params, not through the global config: Snakemake records
# params, so a job reruns when a setting it depends on changes (and only then).
SIMULATION = simulation_settings(config)


def chunk_files(wildcards):
    """Every chunk file of the run, in lens order."""
    return [f"{RUN}/chunks/chunk_{chunk:05d}.npz" for chunk in range(N_CHUNKS)]
