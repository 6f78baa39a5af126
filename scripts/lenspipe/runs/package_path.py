"""Put this workflow's lenspipe first on the import path of every job the driver starts."""

import os


def export_to_jobs(package_dir: str) -> None:
    """Put ``package_dir`` (the folder holding this lenspipe) first on ``PYTHONPATH``.

    Every Python a job starts inherits it: the rule script (in a conda env too), its spawned
    workers, and the job on a SLURM node, whose Snakemake reads the Snakefile, so runs this
    again. Snakemake itself only appends a rule script's folder to ``sys.path``, after
    site-packages, where another installed copy of lenspipe would win. Entries already there
    are kept, after it, once each.
    """
    earlier = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([package_dir, *earlier]))
