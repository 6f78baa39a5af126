"""Rule evaluate_independent: metrics and predicted vs true of trained model {model} on every
lens of an independent test campaign."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block so that TensorFlow's start-up messages go to the log too.
    from lenspipe.evaluation.independent import evaluate_independent
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(snakemake.threads)

    table = evaluate_independent(
        batch_size=snakemake.params.settings["batch_size"],
        store_path=snakemake.input.store,
        normalisation_path=snakemake.input.normalisation,
        model_path=snakemake.input.model,
        # None for a model without uncertainties.
        calibration_path=snakemake.input.get("calibration") or None,
        augment=snakemake.params.settings["augment"],
        outputs=dict(snakemake.output.items()),
    )
    print(table.to_string())
