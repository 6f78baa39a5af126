rule baseline_dense:
    input:
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
    output:
        model=f"{RUN}/baselines/naive/model.keras",
        history=f"{RUN}/baselines/naive/history.csv",
        curve=f"{RUN}/baselines/naive/training_curve.png",
        predictions=f"{RUN}/baselines/naive/predictions.csv",
        metrics_json=f"{RUN}/baselines/naive/metrics.json",
    log:
        f"{RUN}/logs/baseline_dense.log",
    benchmark:
        f"{RUN}/benchmarks/baseline_dense.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        training=TRAINING,
        dense=config["baselines"]["dense"],
        seed=config["seed"],
        # Outside the declared outputs, so a failed attempt's backup survives for the next.
        work_dir=f"{RUN}/work/baseline_dense",
    script:
        "../../scripts/baseline_dense.py"


rule baseline_fit:
    input:
        store=rules.consolidate.output.store,
        split=rules.normalise.output.split,
    output:
        predictions=f"{RUN}/baselines/fit/predictions.csv",
    log:
        f"{RUN}/logs/baseline_fit.log",
    benchmark:
        f"{RUN}/benchmarks/baseline_fit.tsv"
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=SIMULATION,
        targets=config["training"]["targets"],
        fit=config["baselines"]["fit"],
    script:
        "../../scripts/baseline_fit.py"


rule compare:
    input:
        cnn=rules.evaluate.output.predictions,
        cnn_metrics=rules.evaluate.output.metrics_json,
        naive=rules.baseline_dense.output.predictions,
        naive_metrics=rules.baseline_dense.output.metrics_json,
        fit=fit_predictions,
    output:
        table=report(
            f"{RUN}/comparison.csv",
            caption="../report/comparison.rst",
            category="Evaluation",
        ),
        summary=f"{RUN}/comparison.json",
    log:
        f"{RUN}/logs/compare.log",
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=config["training"]["targets"],
    script:
        "../../scripts/compare.py"
