"""Rules refine_chunk and refine_cutout_chunk: fit one chunk of the refine seeds (test lenses,
or images of refine.cutouts) from the CNN's predictions, resumably."""

# The fits run in spawned worker processes (with more than one thread), which import this
# script again (without the snakemake object) as their main module: only the process
# Snakemake started runs the job.
if __name__ == "__main__":
    from lenspipe.runs.logs import rule_log

    with rule_log(snakemake) as log:
        from lenspipe.runs.refine_job import refine_chunk
        from lenspipe.settings import RefineSearch
        from lenspipe.settings import SimulationSettings

        refine_chunk(
            SimulationSettings.from_config(snakemake.params.simulation),
            RefineSearch(**snakemake.params.search),
            targets=snakemake.params.targets,
            chunk=int(snakemake.wildcards.chunk),
            chunk_size=snakemake.params.chunk_size,
            seeds_path=snakemake.input.seeds,
            images_path=snakemake.input.images,
            path=snakemake.output.chunk,
            work_dir=snakemake.params.work_dir,
            checkpoint_every=snakemake.params.checkpoint_every,
            workers=snakemake.threads,
            progress=log,
        )
