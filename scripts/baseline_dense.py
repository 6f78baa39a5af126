"""Rule baseline_dense: train the naive Dense model and predict the test subset."""

import sys

# This workflow's lenspipe, beside this script, before any other copy installed.
sys.path.insert(0, snakemake.scriptdir)

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    # Imported inside the block so that TensorFlow's start-up messages go to the log too.
    from lenspipe.baselines.naive_dense import train_and_evaluate_dense
    from lenspipe.runs.threads import limit_tensorflow_threads

    limit_tensorflow_threads(snakemake.threads)

    train_and_evaluate_dense(
        training=snakemake.params.training,
        dense=snakemake.params.dense,
        seed=snakemake.params.seed,
        store_path=snakemake.input.store,
        normalisation_path=snakemake.input.normalisation,
        split_path=snakemake.input.split,
        work_dir=snakemake.params.work_dir,
        outputs=dict(snakemake.output.items()),
    )
