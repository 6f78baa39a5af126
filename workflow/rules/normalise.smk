rule normalise:
    input:
        store=rules.consolidate.output.store,
    output:
        normalisation=run_path("normalisation"),
        split=run_path("split"),
    log:
        log_path("normalise"),
    benchmark:
        benchmark_path("normalise")
    priority: MAIN_CHAIN_PRIORITY
    conda:
        "../../envs/simulation.yaml"
    # Two local cores, though it computes on one: the main model's training (2 threads, first
    # by MAIN_CHAIN_PRIORITY) becomes ready when this job ends, and Snakemake gives a core
    # freed earlier to any ready job, the naive model's 40-s training included, which then
    # held the CNN's back with the other core idle (2026-11-29). The Amarel profile's
    # set-threads gives it 1.
    threads: 2
    params:
        targets=TARGETS,
        split_fractions=dict(SETTINGS.normalisation.split),
        seed=SETTINGS.simulation.seed,
        image_stretch=SETTINGS.normalisation.image_stretch,
        asinh_softening=SETTINGS.normalisation.asinh_softening,
        image_range=SETTINGS.normalisation.image_range,
    script:
        "../../scripts/normalise.py"
