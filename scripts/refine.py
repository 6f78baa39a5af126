"""Rule refine: the refine chunks merged, the refined sigmas calibrated, the summary."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    import json

    from lenspipe.refinement.merge import merge_refined

    summary = merge_refined(
        chunk_paths=snakemake.input.chunks,
        targets=snakemake.params.targets,
        predictions_path=snakemake.output.predictions,
        calibration_path=snakemake.output.calibration,
        summary_path=snakemake.output.summary,
    )
    print(json.dumps(summary, indent=2))
