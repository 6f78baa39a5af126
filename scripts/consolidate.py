"""Rule consolidate: check every chunk and write the zarr store and the parameter table."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake) as log:
    # Imported inside the block: the log's first line (the job record) comes first, and an
    # import error lands in the log.
    from lenspipe.data.consolidate import consolidate
    from lenspipe.settings import SimulationSettings

    consolidate(
        SimulationSettings.from_config(snakemake.params.simulation),
        chunk_paths=list(snakemake.input.chunks),
        store_path=snakemake.output.store,
        table_path=snakemake.output.table,
        progress=log,
    )
