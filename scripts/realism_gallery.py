"""Rule realism_gallery: the pixel PSFs, source stamps and subhalos the run's images use."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block: the log's first line (the job record) comes first, and an
    # import error lands in the log.
    from lenspipe.evaluation.realism_gallery import realism_gallery

    realism_gallery(snakemake.params.simulation, path=snakemake.output.gallery)
