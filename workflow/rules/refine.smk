# CNN-seeded lens modelling (lenspipe.refinement): the CNN's calibrated predictions of the first
# test and validation lenses, refine_chunk jobs that fit them from there (resumable), and the
# merge that calibrates the refined sigmas and summarises.


rule refine_seeds:
    input:
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        split=rules.normalise.output.split,
        model=model_file("model", MAIN_MODEL),
        calibration=model_file("calibration", MAIN_MODEL),
    output:
        seeds=run_path("refine_seeds"),
    log:
        log_path("refine_seeds"),
    conda:
        "../../envs/training.yaml"
    threads: 1
    params:
        counts=REFINE_COUNTS,
        settings=MODEL_SETTINGS[MAIN_MODEL],
    script:
        "../../scripts/refine_seeds.py"


rule refine_chunk:
    input:
        images=rules.consolidate.output.store,
        seeds=rules.refine_seeds.output.seeds,
    output:
        chunk=run_path("refine_chunk"),
    log:
        log_path("refine_chunk/{chunk}"),
    benchmark:
        benchmark_path("refine_chunk/{chunk}")
    wildcard_constraints:
        chunk=r"\d{5}",
    conda:
        "../../envs/simulation.yaml"
    threads: 1
    params:
        simulation=SIMULATION,
        targets=TARGETS,
        search=REFINE_SEARCH,
        chunk_size=REFINE.chunk_size,
        # Saved parts live outside the declared output, so a retried, requeued or rerun job
        # resumes from them.
        work_dir=run_path("refine_work"),
        checkpoint_every=REFINE.checkpoint_every,
    script:
        "../../scripts/refine_chunk.py"


rule refine:
    input:
        chunks=refine_chunk_files,
    output:
        predictions=run_path("refined_predictions"),
        calibration=run_path("refine_calibration"),
        summary=run_path("refine_summary"),
    log:
        log_path("refine"),
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=TARGETS,
    script:
        "../../scripts/refine.py"


# Images from outside the run (refine.cutouts, by {name}): checked and predicted by the CNN,
# refined in chunk jobs like the test lenses, merged with the run's refined-sigma calibration.
rule refine_cutout_seeds:
    input:
        images=cutout_file,
        store=rules.consolidate.output.store,
        normalisation=rules.normalise.output.normalisation,
        model=model_file("model", MAIN_MODEL),
        calibration=model_file("calibration", MAIN_MODEL),
    output:
        images=run_path("cutout_images"),
        seeds=run_path("cutout_seeds"),
    log:
        log_path("refine_cutout_seeds/{name}"),
    conda:
        "../../envs/training.yaml"
    threads: 1
    params:
        image_shape=IMAGE_SHAPE,
        settings=MODEL_SETTINGS[MAIN_MODEL],
        targets=TARGETS,
    script:
        "../../scripts/refine_cutout_seeds.py"


rule refine_cutout_chunk:
    input:
        images=rules.refine_cutout_seeds.output.images,
        seeds=rules.refine_cutout_seeds.output.seeds,
    output:
        chunk=run_path("cutout_chunk"),
    log:
        log_path("refine_cutout_chunk/{name}/{chunk}"),
    benchmark:
        benchmark_path("refine_cutout_chunk/{name}/{chunk}")
    wildcard_constraints:
        chunk=r"\d{5}",
    conda:
        "../../envs/simulation.yaml"
    threads: 1
    params:
        simulation=SIMULATION,
        targets=TARGETS,
        search=REFINE_SEARCH,
        chunk_size=REFINE.chunk_size,
        work_dir=run_path("cutout_work"),
        checkpoint_every=REFINE.checkpoint_every,
    script:
        "../../scripts/refine_chunk.py"


rule refine_cutouts:
    input:
        chunks=cutout_chunk_files,
        calibration=refined_calibration,
    output:
        predictions=run_path("cutout_predictions"),
        summary=run_path("cutout_summary"),
    log:
        log_path("refine_cutouts/{name}"),
    conda:
        "../../envs/simulation.yaml"
    params:
        targets=TARGETS,
    script:
        "../../scripts/refine_cutouts.py"


# The target that refines every set of refine.cutouts: snakemake cutouts
rule cutouts:
    input:
        expand(run_path("cutout_predictions"), name=CUTOUTS),
