"""Rule survey_gallery: the run's first lenses as one survey preset would image them."""

from lenspipe.gallery import survey_gallery
from lenspipe.logs import logging_to

with logging_to(snakemake.log[0]):
    survey_gallery(
        snakemake.params.simulation,
        survey=snakemake.wildcards.survey,
        count=snakemake.params.gallery_size,
        path=snakemake.output.gallery,
    )
