"""Rule normalise: split the lenses and fit the scalers on the training subset."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block: the log's first line (the job record) comes first, and an
    # import error lands in the log.
    from lenspipe.data.normalise import fit_normalisation, save_normalisation, save_split

    subsets, normalisation = fit_normalisation(
        snakemake.input.store,
        targets=snakemake.params.targets,
        split_fractions=snakemake.params.split_fractions,
        seed=snakemake.params.seed,
        image_stretch=snakemake.params.image_stretch,
        asinh_softening=snakemake.params.asinh_softening,
        image_range=snakemake.params.image_range,
    )
    save_split(subsets, snakemake.output.split)
    save_normalisation(normalisation, snakemake.output.normalisation)
    print({name: len(indices) for name, indices in subsets.items()})
