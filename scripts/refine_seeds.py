"""Rule refine_seeds: the CNN's calibrated predictions of the lenses to refine."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block so that TensorFlow's start-up messages go to the log too.
    from lenspipe.refinement.seeds import write_seeds
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(snakemake.threads)

    settings = snakemake.params.settings
    write_seeds(
        counts=snakemake.params.counts,
        store_path=snakemake.input.store,
        normalisation_path=snakemake.input.normalisation,
        split_path=snakemake.input.split,
        model_path=snakemake.input.model,
        calibration_path=snakemake.input.calibration,
        batch_size=settings["batch_size"],
        augment=settings["augment"],
        seeds_path=snakemake.output.seeds,
    )
