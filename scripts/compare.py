"""Rule compare: every model (the CNN first) and the fit side by side on the test lenses."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    import json
    from pathlib import Path

    from lenspipe.evaluation.comparison import write_comparison

    models = snakemake.params.models
    seconds = {
        model: json.loads(Path(path).read_text())["seconds_per_lens"]
        for model, path in zip(models, snakemake.input.metrics)
    }
    table = write_comparison(
        names=snakemake.params.targets,
        predictions=dict(zip(models, snakemake.input.predictions)),
        seconds_per_lens=seconds,
        fit_predictions=snakemake.input.get("fit") or None,
        table_path=snakemake.output.table,
        summary_path=snakemake.output.summary,
        refined_predictions=snakemake.input.get("refined") or None,
        refine_summary=snakemake.input.get("refine_summary") or None,
    )
    print(table.to_string())
