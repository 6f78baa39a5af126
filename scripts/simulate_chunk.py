"""Rule simulate_chunk: render one chunk of lenses into a chunk file."""

from lenspipe.chunks import simulate_chunk
from lenspipe.logs import logging_to

with logging_to(snakemake.log[0]) as log:
    simulate_chunk(
        snakemake.params.simulation,
        chunk=int(snakemake.wildcards.chunk),
        path=snakemake.output.chunk,
        progress=log,
    )
