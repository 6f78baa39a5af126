rule consolidate:
    input:
        chunks=chunk_files,
    output:
        store=directory(f"{RUN}/lenses.zarr"),
        table=f"{RUN}/parameters.parquet",
    log:
        f"{RUN}/logs/consolidate.log",
    benchmark:
        f"{RUN}/benchmarks/consolidate.tsv"
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=SIMULATION,
    script:
        "../../scripts/consolidate.py"
