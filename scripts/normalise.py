"""Rule normalise: split the lenses and fit the scalers on the training subset."""

from lenspipe.logs import logging_to
from lenspipe.normalise import fit_normalisation, save_normalisation, save_split

with logging_to(snakemake.log[0]):
    subsets, normalisation = fit_normalisation(snakemake.input.store, snakemake.config)
    save_split(subsets, snakemake.output.split)
    save_normalisation(normalisation, snakemake.output.normalisation)
    print({name: len(indices) for name, indices in subsets.items()})
