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
        ),
    log:
        log_path("train"),
    benchmark:
        benchmark_path("train")
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        training=TRAINING,
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
        log_path("calibrate"),
    benchmark:
        benchmark_path("calibrate")
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        batch_size=config["training"]["batch_size"],
        augment=config["training"]["augment"],
    script:
        "../../scripts/calibrate.py"
