"""Rule refine_cutouts: the refine chunks of one set of refine.cutouts merged, their sigmas
scaled by the run's refined-sigma calibration (when it has one)."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    import json

    from lenspipe.refinement.cutouts import merge_cutouts

    summary = merge_cutouts(
        chunk_paths=snakemake.input.chunks,
        targets=snakemake.params.targets,
        calibration_path=snakemake.input.get("calibration") or None,
        predictions_path=snakemake.output.predictions,
        summary_path=snakemake.output.summary,
    )
    print(json.dumps(summary, indent=2))
