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
        targets=TARGETS,
        fit=dataclasses.asdict(SETTINGS.fit),
    script:
        "../../scripts/baseline_fit.py"


# Every model's test predictions (the main model first) beside the fit's.
rule compare:
    input:
        predictions=expand(run_path("predictions"), model=MODELS),
        metrics=expand(run_path("metrics_json"), model=MODELS),
        fit=fit_predictions,
        refined=refined_predictions,
        refine_summary=refine_summary,
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
        targets=TARGETS,
        models=list(MODELS),
    script:
        "../../scripts/compare.py"
