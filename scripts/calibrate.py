"""Rule calibrate: the per-target factor of model {model}'s standard deviations, on the
validation subset."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block so that TensorFlow's start-up messages go to the log too.
    from lenspipe.evaluation.evaluate import calibrate
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(snakemake.threads)

    calibrate(
        store_path=snakemake.input.store,
        normalisation_path=snakemake.input.normalisation,
        split_path=snakemake.input.split,
        model_path=snakemake.input.model,
        batch_size=snakemake.params.settings["batch_size"],
        augment=snakemake.params.settings["augment"],
        calibration_path=snakemake.output.calibration,
    )
