# The learning curve (evaluation.learning_curve): the train rule's CNN trained again on the
# first n_train lenses of a fixed seeded order of the training subset, each size predicting the
# whole test subset, and the test metrics per target against size, the full training subset
# (the train rule's own model) as the largest.


rule train_subset:
    input:
        store=rules.consolidate.output.store,
        # Fit on the whole training subset, as for the train rule: only the lenses differ.
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
    output:
        model=f"{LEARNING_CURVE}/{{n_train}}/model.keras",
        history=f"{LEARNING_CURVE}/{{n_train}}/history.csv",
        curve=f"{LEARNING_CURVE}/{{n_train}}/training_curve.png",
        predictions=f"{LEARNING_CURVE}/{{n_train}}/predictions.csv",
    log:
        f"{RUN}/logs/train_subset/{{n_train}}.log",
    benchmark:
        f"{RUN}/benchmarks/train_subset/{{n_train}}.tsv"
    wildcard_constraints:
        n_train=r"[1-9]\d*",
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        training=TRAINING,
        seed=config["seed"],
        # Outside the declared outputs, so a failed attempt's backup survives for the next.
        work_dir=f"{RUN}/work/learning_curve/{{n_train}}",
    script:
        "../../scripts/train_subset.py"


rule learning_curve:
    input:
        subsets=learning_curve_predictions,
        full=rules.evaluate.output.predictions,
    output:
        table=report(
            f"{RUN}/learning_curve.csv",
            caption="../report/learning_curve_table.rst",
            category="Learning curve",
        ),
        plot=report(
            f"{RUN}/plots/learning_curve.png",
            caption="../report/learning_curve.rst",
            category="Learning curve",
        ),
    log:
        f"{RUN}/logs/learning_curve.log",
    benchmark:
        f"{RUN}/benchmarks/learning_curve.tsv"
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=config["training"]["targets"],
        sizes=LEARNING_CURVE_SIZES,
        full_size=training_subset_size(config),
    script:
        "../../scripts/learning_curve.py"
