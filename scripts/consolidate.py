"""Rule consolidate: check every chunk and write the zarr store and the parameter table."""

from lenspipe.consolidate import consolidate
from lenspipe.logs import rule_log

with rule_log(snakemake) as log:
    consolidate(
        snakemake.params.simulation,
        chunk_paths=list(snakemake.input.chunks),
        store_path=snakemake.output.store,
        table_path=snakemake.output.table,
        progress=log,
    )
