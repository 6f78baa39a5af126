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
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        settings=settings_of_model,
        seed=config["seed"],
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
    threads: 2
    params:
        settings=settings_of_model,
    script:
        "../../scripts/calibrate.py"
