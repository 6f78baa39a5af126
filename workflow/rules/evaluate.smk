rule evaluate:
    input:
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
        model=rules.train.output.model,
        calibration=calibration_of_model,
    output:
        metrics_json=run_path("metrics_json"),
        predictions=run_path("predictions"),
        metrics_csv=report(
            run_path("metrics_csv"),
            caption="../report/metrics.rst",
            category="Evaluation",
            subcategory="{model}",
        ),
        predicted_vs_true=report(
            run_path("predicted_vs_true"),
            caption="../report/predicted_vs_true.rst",
            category="Evaluation",
            subcategory="{model}",
        ),
        residuals=report(
            run_path("residuals"),
            caption="../report/residuals.rst",
            category="Evaluation",
            subcategory="{model}",
        ),
        gallery=report(
            run_path("gallery"),
            caption="../report/gallery.rst",
            category="Evaluation",
            subcategory="{model}",
        ),
    log:
        log_path("evaluate/{model}"),
    benchmark:
        benchmark_path("evaluate/{model}")
    conda:
        "../../envs/training.yaml"
    threads: 1  # like calibrate
    params:
        settings=settings_of_model,
        gallery_size=SETTINGS.evaluation.gallery_size,
    script:
        "../../scripts/evaluate.py"


# Only for a model with uncertainties (MODELS_WITH_UNCERTAINTIES): the coverage of its
# calibrated intervals on the test subset.
rule calibration_plot:
    input:
        predictions=rules.evaluate.output.predictions,
        calibration=rules.calibrate.output.calibration,
    output:
        plot=report(
            run_path("calibration_plot"),
            caption="../report/calibration.rst",
            category="Evaluation",
            subcategory="{model}",
        ),
    log:
        log_path("calibration_plot/{model}"),
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=TARGETS,
    script:
        "../../scripts/calibration_plot.py"
