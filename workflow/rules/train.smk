# The models (lenspipe.learning.variants.MODELS: the CNN and the naive Dense model) are the
# {model} wildcard of one train rule, and only those with uncertainties are calibrated.


rule train:
    input:
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
    output:
        model=run_path("model"),
        history=run_path("history"),
        curve=report(
            run_path("training_curve"),
            caption="../report/training_curve.rst",
            category="Training",
            subcategory="{model}",
        ),
    log:
        log_path("train/{model}"),
    benchmark:
        benchmark_path("train/{model}")
    priority: train_priority
    conda:
        "../../envs/training.yaml"
    threads: train_threads
    params:
        settings=settings_of_model,
        seed=SETTINGS.simulation.seed,
        # Outside the declared outputs, so a failed attempt's backup survives for the next.
        work_dir=run_path("train_work"),
    script:
        "../../scripts/train.py"


rule calibrate:
    input:
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
        model=rules.train.output.model,
    output:
        calibration=run_path("calibration"),
    log:
        log_path("calibrate/{model}"),
    benchmark:
        benchmark_path("calibrate/{model}")
    conda:
        "../../envs/training.yaml"
    # One core, like evaluate and evaluate_independent: predicting and plotting kept 1.1-1.2
    # of 2 cores busy (2026-11-29), so two of them now run side by side instead.
    threads: 1
    params:
        settings=settings_of_model,
    script:
        "../../scripts/calibrate.py"
