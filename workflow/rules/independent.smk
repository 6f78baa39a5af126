# Independent test campaigns (evaluation.independent_tests): lenses simulated from each
# campaign's own seed by the same scripts and package code as the run's chunks and store, into
# results/<run>/independent/<name>/, and the main model (lenspipe.learning.variants.MAIN_MODEL,
# the CNN) evaluated on every one of them, into models/<model>/ of the campaign's folder.


rule simulate_independent_chunk:
    output:
        chunk=campaign_path("chunk"),
    log:
        log_path("simulate_chunk/{chunk}", CAMPAIGN),
    benchmark:
        benchmark_path("simulate_chunk/{chunk}", CAMPAIGN)
    wildcard_constraints:
        name=r"[A-Za-z0-9_-]+",
        chunk=r"\d{5}",
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=independent_simulation,
        work_dir=campaign_path("chunk_work"),
        checkpoint_every=SETTINGS.chunk_jobs.checkpoint_every,
        pause_seconds=SETTINGS.chunk_jobs.seconds_per_lens,
    script:
        "../../scripts/simulate_chunk.py"


rule consolidate_independent:
    input:
        chunks=independent_chunk_files,
    output:
        store=directory(campaign_path("store")),
        table=campaign_path("table"),
    log:
        log_path("consolidate", CAMPAIGN),
    benchmark:
        benchmark_path("consolidate", CAMPAIGN)
    wildcard_constraints:
        name=r"[A-Za-z0-9_-]+",
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=independent_simulation,
    script:
        "../../scripts/consolidate.py"


rule evaluate_independent:
    input:
        store=rules.consolidate_independent.output.store,
        # The run's scaling, fit on its training subset: never refit on a campaign.
        normalisation=rules.normalise.output.normalisation,
        model=rules.train.output.model,
        calibration=calibration_of_model,
    output:
        metrics_json=campaign_path("metrics_json"),
        metrics_csv=campaign_path("metrics_csv"),
        predictions=campaign_path("predictions"),
        predicted_vs_true=report(
            campaign_path("predicted_vs_true"),
            caption="../report/independent_predicted_vs_true.rst",
            category="Independent tests",
            subcategory="{name}",
        ),
    log:
        log_path("evaluate/{model}", CAMPAIGN),
    benchmark:
        benchmark_path("evaluate/{model}", CAMPAIGN)
    wildcard_constraints:
        name=r"[A-Za-z0-9_-]+",
    conda:
        "../../envs/training.yaml"
    threads: 1  # like calibrate
    params:
        settings=settings_of_model,
    script:
        "../../scripts/evaluate_independent.py"


rule independent_table:
    input:
        test_split=model_file("predictions", MAIN_MODEL),
        normalisation=rules.normalise.output.normalisation,
        calibration=main_model_calibration,
        campaigns=independent_predictions,
    output:
        table=report(
            run_path("independent_table"),
            caption="../report/independent_tests.rst",
            category="Independent tests",
        ),
    log:
        log_path("independent_table"),
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=TARGETS,
        campaigns=list(INDEPENDENT_TESTS),
    script:
        "../../scripts/independent_table.py"
