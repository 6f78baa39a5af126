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
        "../../envs/simulation.yaml"
    params:
        simulation=SIMULATION,
        # Saved parts live outside the declared output, so a retried, requeued or rerun job
        # resumes from them instead of starting the chunk again.
        work_dir=f"{RUN}/work/chunks/chunk_{{chunk}}",
        checkpoint_every=config["checkpoint_every"],
        pause_seconds=config["testing"]["seconds_per_lens"],
    script:
        "../../scripts/simulate_chunk.py"
