rule simulate_chunk:
    output:
        chunk=run_path("chunk"),
    log:
        log_path("simulate_chunk/{chunk}"),
    benchmark:
        benchmark_path("simulate_chunk/{chunk}")
    wildcard_constraints:
        chunk=r"\d{5}",
    priority: MAIN_CHAIN_PRIORITY
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=SIMULATION,
        # Saved parts live outside the declared output, so a retried, requeued or rerun job
        # resumes from them instead of starting the chunk again.
        work_dir=run_path("chunk_work"),
        checkpoint_every=SETTINGS.chunk_jobs.checkpoint_every,
        pause_seconds=SETTINGS.chunk_jobs.seconds_per_lens,
    script:
        "../../scripts/simulate_chunk.py"
