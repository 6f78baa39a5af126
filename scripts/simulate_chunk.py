"""Rule simulate_chunk: render one chunk of lenses into a chunk file, resumably."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake) as log:
    # Imported inside the block: the log's first line (the job record) comes before
    # lenstronomy's few seconds of import, and an import error lands in the log.
    from lenspipe.runs.chunk_job import simulate_chunk
    from lenspipe.settings import SimulationSettings

    simulate_chunk(
        SimulationSettings.from_config(snakemake.params.simulation),
        chunk=int(snakemake.wildcards.chunk),
        path=snakemake.output.chunk,
        work_dir=snakemake.params.work_dir,
        checkpoint_every=snakemake.params.checkpoint_every,
        progress=log,
        pause_seconds=snakemake.params.pause_seconds,
    )
