"""Rule consolidate: check every chunk and write the zarr store and the parameter table."""

from lenspipe.consolidate import consolidate
from lenspipe.logs import logging_to

with logging_to(snakemake.log[0]) as log:
    consolidate(
        snakemake.params.simulation,
        chunk_paths=list(snakemake.input.chunks),
        store_path=snakemake.output.store,
        table_path=snakemake.output.table,
        progress=log,
    )
