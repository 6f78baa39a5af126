"""Rule refine_cutout_seeds: the images of one set of refine.cutouts, checked, kept as .npy and
predicted by the calibrated CNN, as the seeds of their refinement."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block so that TensorFlow's start-up messages go to the log too.
    from lenspipe.refinement.cutouts import write_cutout_seeds
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(snakemake.threads)

    settings = snakemake.params.settings
    write_cutout_seeds(
        images_path=snakemake.input.images,
        image_shape=tuple(snakemake.params.image_shape),
        model_path=snakemake.input.model,
        normalisation_path=snakemake.input.normalisation,
        store_path=snakemake.input.store,
        calibration_path=snakemake.input.calibration,
        batch_size=settings["batch_size"],
        augment=settings["augment"],
        targets=snakemake.params.targets,
        images_out=snakemake.output.images,
        seeds_out=snakemake.output.seeds,
    )
