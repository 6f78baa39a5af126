rule baseline_dense:
    input:
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
    output:
        model=run_path("naive_model"),
        history=run_path("naive_history"),
        curve=run_path("naive_curve"),
        predictions=run_path("naive_predictions"),
        metrics_json=run_path("naive_metrics_json"),
    log:
        log_path("baseline_dense"),
    benchmark:
        benchmark_path("baseline_dense")
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        training=TRAINING,
        dense=config["baselines"]["dense"],
        seed=config["seed"],
        # Outside the declared outputs, so a failed attempt's backup survives for the next.
        work_dir=run_path("naive_work"),
    script:
        "../../scripts/baseline_dense.py"


rule baseline_fit:
    input:
        store=rules.consolidate.output.store,
        split=rules.normalise.output.split,
    output:
        predictions=run_path("fit_predictions"),
    log:
        log_path("baseline_fit"),
    benchmark:
        benchmark_path("baseline_fit")
    conda:
        "../../envs/simulation.yaml"
    threads: 2
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
            run_path("comparison_table"),
            caption="../report/comparison.rst",
            category="Evaluation",
        ),
        summary=run_path("comparison_summary"),
    log:
        log_path("compare"),
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=config["training"]["targets"],
    script:
        "../../scripts/compare.py"
