"""Rule train_subset: the train rule's CNN trained on n_train lenses of the training subset
(a point of the learning curve), and its predictions on the test subset; resumes from
work_dir."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block so that TensorFlow's start-up messages go to the log too.
    from lenspipe.runs.devices import check_training_device
    from lenspipe.evaluation.learning_curve import train_on_subset
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(snakemake.threads)
    # A GPU asked for and not seen stops the job (allow_cpu_fallback is read from the config,
    # not params, so that switching it does not retrain).
    allow_cpu = snakemake.config["training"]["allow_cpu_fallback"]
    print(check_training_device(snakemake.resources, allow_cpu))

    metrics = train_on_subset(
        training=snakemake.params.training,
        seed=snakemake.params.seed,
        n_train=int(snakemake.wildcards.n_train),
        store_path=snakemake.input.store,
        normalisation_path=snakemake.input.normalisation,
        split_path=snakemake.input.split,
        work_dir=snakemake.params.work_dir,
        outputs=dict(snakemake.output.items()),
    )
    print(metrics.to_string())
