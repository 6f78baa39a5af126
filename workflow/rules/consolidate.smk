rule consolidate:
    input:
        chunks=chunk_files,
    output:
        store=directory(run_path("store")),
        table=run_path("table"),
    log:
        log_path("consolidate"),
    benchmark:
        benchmark_path("consolidate")
    priority: MAIN_CHAIN_PRIORITY
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=SIMULATION,
    script:
        "../../scripts/consolidate.py"
