rule train:
    input:
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
    output:
        model=f"{RUN}/model.keras",
        history=f"{RUN}/history.csv",
        curve=report(
            f"{RUN}/plots/training_curve.png",
            caption="../report/training_curve.rst",
            category="Training",
        ),
    log:
        f"{RUN}/logs/train.log",
    benchmark:
        f"{RUN}/benchmarks/train.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        training=TRAINING,
        seed=config["seed"],
        # Outside the declared outputs, so a failed attempt's backup survives for the next.
        work_dir=f"{RUN}/work/train",
    script:
        "../../scripts/train.py"


rule calibrate:
    input:
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
        model=rules.train.output.model,
    output:
        calibration=f"{RUN}/calibration.json",
    log:
        f"{RUN}/logs/calibrate.log",
    benchmark:
        f"{RUN}/benchmarks/calibrate.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        batch_size=config["training"]["batch_size"],
        augment=config["training"]["augment"],
    script:
        "../../scripts/calibrate.py"
