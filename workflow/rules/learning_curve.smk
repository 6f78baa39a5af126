# The learning curve (evaluation.learning_curve): the main model (the CNN) trained again on the
# first n_train lenses of a fixed seeded order of the training subset, each size predicting the
# whole test subset, and the test metrics per target against size, the full training subset
# (the train rule's own model) as the largest, above the refined fit's as the floor.


rule train_subset:
    input:
        store=rules.consolidate.output.store,
        # Fit on the whole training subset, as for the train rule: only the lenses differ.
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
    output:
        model=run_path("subset_model"),
        history=run_path("subset_history"),
        curve=run_path("subset_curve"),
        predictions=run_path("subset_predictions"),
    log:
        log_path("train_subset/{n_train}"),
    benchmark:
        benchmark_path("train_subset/{n_train}")
    wildcard_constraints:
        n_train=r"[1-9]\d*",
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        training=MODEL_SETTINGS[MAIN_MODEL],
        seed=SETTINGS.simulation.seed,
        # Outside the declared outputs, so a failed attempt's backup survives for the next.
        work_dir=run_path("subset_work"),
    script:
        "../../scripts/train_subset.py"


rule learning_curve:
    input:
        subsets=learning_curve_predictions,
        full=model_file("predictions", MAIN_MODEL),
        # The floor: the refined fit's accuracy on the same test lenses (a run that refines).
        refined=refined_predictions,
    output:
        table=report(
            run_path("learning_curve_table"),
            caption="../report/learning_curve_table.rst",
            category="Learning curve",
        ),
        plot=report(
            run_path("learning_curve_plot"),
            caption="../report/learning_curve.rst",
            category="Learning curve",
        ),
    log:
        log_path("learning_curve"),
    benchmark:
        benchmark_path("learning_curve")
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=TARGETS,
        sizes=LEARNING_CURVE_SIZES,
        full_size=training_subset_size(config),
    script:
        "../../scripts/learning_curve.py"
