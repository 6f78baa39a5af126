"""Rule evaluate: metrics and figures of trained model {model} on the test subset."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block so that TensorFlow's start-up messages go to the log too.
    from lenspipe.evaluation.evaluate import evaluate
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(snakemake.threads)

    evaluate(
        batch_size=snakemake.params.settings["batch_size"],
        gallery_size=snakemake.params.gallery_size,
        store_path=snakemake.input.store,
        normalisation_path=snakemake.input.normalisation,
        split_path=snakemake.input.split,
        model_path=snakemake.input.model,
        # None for a model without uncertainties (no calibration: no coverage).
        calibration_path=snakemake.input.get("calibration") or None,
        augment=snakemake.params.settings["augment"],
        outputs=dict(snakemake.output.items()),
    )
