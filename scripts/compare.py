"""Rule compare: the CNN, the naive model and the fit side by side on the test lenses."""

import sys

# This workflow's lenspipe, beside this script, before any other copy installed.
sys.path.insert(0, snakemake.scriptdir)

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    import json
    from pathlib import Path

    from lenspipe.evaluation.comparison import write_comparison

    seconds = {
        model: json.loads(Path(snakemake.input[f"{model}_metrics"]).read_text())[
            "seconds_per_lens"
        ]
        for model in ("cnn", "naive")
    }
    table = write_comparison(
        names=snakemake.params.targets,
        predictions={
            model: snakemake.input[model]
            for model in ("cnn", "naive", "fit")
            if snakemake.input.get(model)
        },
        seconds_per_lens=seconds,
        table_path=snakemake.output.table,
        summary_path=snakemake.output.summary,
    )
    print(table.to_string())
