rule simulate_chunk:
    output:
        chunk=f"{RUN}/chunks/chunk_{{chunk}}.npz",
    log:
        f"{RUN}/logs/simulate_chunk/{{chunk}}.log",
    benchmark:
        f"{RUN}/benchmarks/simulate_chunk/{{chunk}}.tsv"
    wildcard_constraints:
        chunk=r"\d{5}",
    conda:
        "../../envs/lenspipe.yaml"
    params:
        simulation=SIMULATION,
    script:
        "../../scripts/simulate_chunk.py"
