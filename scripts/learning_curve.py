"""Rule learning_curve: test metrics per target against training-set size, as a table and a
figure."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    from lenspipe.evaluation.learning_curve_table import write_learning_curve

    table = write_learning_curve(
        names=snakemake.params.targets,
        predictions={
            **dict(zip(snakemake.params.sizes, snakemake.input.subsets)),
            snakemake.params.full_size: snakemake.input.full,
        },
        table_path=snakemake.output.table,
        plot_path=snakemake.output.plot,
        refined_path=snakemake.input.get("refined") or None,
    )
    print(table.to_string())
