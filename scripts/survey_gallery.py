"""Rule survey_gallery: the run's first lenses as one survey preset would image them."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block: the log's first line (the job record) comes first, and an
    # import error lands in the log.
    from lenspipe.evaluation.gallery import survey_gallery

    survey_gallery(
        snakemake.params.simulation,
        survey=snakemake.wildcards.survey,
        count=snakemake.params.gallery_size,
        path=snakemake.output.gallery,
    )
