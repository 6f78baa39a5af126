# Independent test campaigns (evaluation.independent_tests): lenses simulated from each
# campaign's own seed by the same scripts and package code as the run's chunks and store, into
# results/<run>/independent/<name>/, and the trained model evaluated on every one of them.


rule simulate_independent_chunk:
    output:
        chunk=f"{INDEPENDENT}/{{name}}/chunks/chunk_{{chunk}}.npz",
    log:
        f"{INDEPENDENT}/{{name}}/logs/simulate_chunk/{{chunk}}.log",
    benchmark:
        f"{INDEPENDENT}/{{name}}/benchmarks/simulate_chunk/{{chunk}}.tsv"
    wildcard_constraints:
        name=r"[A-Za-z0-9_-]+",
        chunk=r"\d{5}",
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=independent_simulation,
        work_dir=f"{INDEPENDENT}/{{name}}/work/chunks/chunk_{{chunk}}",
        checkpoint_every=config["checkpoint_every"],
        pause_seconds=config["testing"]["seconds_per_lens"],
    script:
        "../../scripts/simulate_chunk.py"


rule consolidate_independent:
    input:
        chunks=independent_chunk_files,
    output:
        store=directory(f"{INDEPENDENT}/{{name}}/lenses.zarr"),
        table=f"{INDEPENDENT}/{{name}}/parameters.parquet",
    log:
        f"{INDEPENDENT}/{{name}}/logs/consolidate.log",
    benchmark:
        f"{INDEPENDENT}/{{name}}/benchmarks/consolidate.tsv"
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
        calibration=rules.calibrate.output.calibration,
    output:
        metrics_json=f"{INDEPENDENT}/{{name}}/metrics.json",
        metrics_csv=f"{INDEPENDENT}/{{name}}/metrics.csv",
        predictions=f"{INDEPENDENT}/{{name}}/predictions.csv",
        predicted_vs_true=report(
            f"{INDEPENDENT}/{{name}}/plots/predicted_vs_true.png",
            caption="../report/independent_predicted_vs_true.rst",
            category="Independent tests",
            subcategory="{name}",
        ),
    log:
        f"{INDEPENDENT}/{{name}}/logs/evaluate.log",
    benchmark:
        f"{INDEPENDENT}/{{name}}/benchmarks/evaluate.tsv"
    wildcard_constraints:
        name=r"[A-Za-z0-9_-]+",
    conda:
        "../../envs/training.yaml"
    threads: 2
    params:
        batch_size=config["training"]["batch_size"],
        augment=config["training"]["augment"],
    script:
        "../../scripts/evaluate_independent.py"


rule independent_table:
    input:
        test_split=rules.evaluate.output.predictions,
        normalisation=rules.normalise.output.normalisation,
        campaigns=independent_predictions,
    output:
        table=report(
            f"{RUN}/independent_tests.csv",
            caption="../report/independent_tests.rst",
            category="Independent tests",
        ),
    log:
        f"{RUN}/logs/independent_table.log",
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=config["training"]["targets"],
        campaigns=list(INDEPENDENT_TESTS),
    script:
        "../../scripts/independent_table.py"
