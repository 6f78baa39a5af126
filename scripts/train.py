"""Rule train: fit model {model}, streaming batches from the store; resumes from work_dir."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block so that TensorFlow's start-up messages go to the log too.
    from lenspipe.learning.train import train
    from lenspipe.learning.variants import builder
    from lenspipe.runs.devices import check_training_device
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(snakemake.threads)
    # A GPU asked for and not seen stops the job (allow_cpu_fallback is read from the config,
    # not params, so that switching it does not retrain).
    allow_cpu = snakemake.config["training"]["allow_cpu_fallback"]
    print(check_training_device(snakemake.resources, allow_cpu))

    settings = snakemake.params.settings
    train(
        training=settings,
        seed=snakemake.params.seed,
        store_path=snakemake.input.store,
        normalisation_path=snakemake.input.normalisation,
        split_path=snakemake.input.split,
        work_dir=snakemake.params.work_dir,
        model_path=snakemake.output.model,
        history_path=snakemake.output.history,
        curve_path=snakemake.output.curve,
        build=builder(snakemake.wildcards.model, settings),
    )
