"""Rule independent_table: the run's test split and each independent test campaign side by
side."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    from lenspipe.evaluation.independent_metrics import TEST_SPLIT, write_side_by_side

    table = write_side_by_side(
        names=snakemake.params.targets,
        predictions={
            TEST_SPLIT: snakemake.input.test_split,
            **dict(zip(snakemake.params.campaigns, snakemake.input.campaigns)),
        },
        normalisation_path=snakemake.input.normalisation,
        calibration_path=snakemake.input.get("calibration") or None,
        table_path=snakemake.output.table,
    )
    print(table.to_string())
