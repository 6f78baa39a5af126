"""Rule calibration_plot: the coverage of model {model}'s calibrated intervals on the test
subset."""

from lenspipe.runs.logs import rule_log

with rule_log(snakemake):
    from lenspipe.evaluation.calibration_plot import draw_calibration_plot

    observed = draw_calibration_plot(
        names=snakemake.params.targets,
        predictions_path=snakemake.input.predictions,
        calibration_path=snakemake.input.calibration,
        plot_path=snakemake.output.plot,
    )
    print(observed)
